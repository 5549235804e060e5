"""``torchvision`` on the engine: ``from engine import vision as torchvision``."""

from . import datasets as datasets
from . import io as io
from . import models as models
from . import ops as ops
from . import transforms as transforms
from . import utils as utils
from .image_file import ImageFileError as ImageFileError
from .image_file import open_image as open_image
