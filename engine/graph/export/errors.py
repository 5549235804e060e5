"""The error every exporter raises when a document or its weights cannot be exported as asked."""

from ..document import NetworkError


class ExportError(NetworkError):
    """Weights that do not fit the document, or a layer option a format cannot express; the message names
    the node, key or file."""
