"""``engine.nn.parallel``: the module path of ``torch.nn.parallel`` (``from torch.nn.parallel import
DataParallel``, ``DistributedDataParallel``); ``DataParallel`` itself lives in ``engine.nn.data_parallel``."""

from ..data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
