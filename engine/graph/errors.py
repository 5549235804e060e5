"""The document's errors, below both the document and what builds it (build raises them too)."""


class NetworkError(ValueError):
    """An edit or a document that breaks the rules; the message names the node and the problem."""


class ConnectionRefused(NetworkError):
    """A connection that cannot be made (a cycle, a second input to a single-input layer, ...)."""
