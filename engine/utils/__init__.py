"""Utilities that mirror ``torch.utils``: ``data`` and ``hooks``."""

from . import data as data
from . import hooks as hooks
