"""The error of a run folder's files, below both the run record and the callbacks that write its logs."""

from ..utils.files import FileError


class RunFileError(FileError, ValueError):
    """A run folder or one of its files that cannot be read or written; the message names the file."""
