"""``engine.nn.parallel``: the module path of ``torch.nn.parallel`` (``from torch.nn.parallel import
DataParallel``); the class itself lives in ``engine.nn.data_parallel``."""

from ..data_parallel import DataParallel

__all__ = ["DataParallel"]
