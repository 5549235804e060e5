"""Utilities that mirror ``torch.utils``: ``data`` and ``hooks``."""

from . import hooks as hooks
