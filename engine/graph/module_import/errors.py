"""The error of tracing a module into a document."""


class TraceRefused(ValueError):
    """What in the module cannot become layers; the message names the module or operation."""
