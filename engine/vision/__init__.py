"""``torchvision`` on the engine: ``from engine import vision as torchvision``."""

from . import datasets as datasets
from . import transforms as transforms
from . import utils as utils
