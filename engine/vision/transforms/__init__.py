"""``torchvision.transforms`` (the v1 API): every transform takes a PIL image or an image tensor (..., C, H, W)
and returns the same kind, as torchvision does. Random transforms draw from
``engine.utils.data.current_rng()``, so ``engine.manual_seed`` fixes them and a loader gives the same batches
with any number of workers. Most transforms also run over a whole batch at once (``compose.apply_batch``),
which in-memory image datasets use (``engine.vision.image_batch``)."""

from . import functional as functional
from . import v2 as v2
from .auto_augment import AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .blur import GaussianBlur
from .color import ColorJitter, Grayscale, Normalize, RandomGrayscale
from .compose import Compose, Lambda, apply_batch, is_batchable
from .containers import RandomApply, RandomChoice, RandomOrder
from .conversion import PILToTensor, ToPILImage, ToTensor
from .erasing import RandomErasing
from .geometry import CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, Resize
from .geometry_random import RandomAffine, RandomResizedCrop, RandomRotation
from .image_ops import InterpolationMode

__all__ = [
    "AutoAugment",
    "AutoAugmentPolicy",
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandAugment",
    "RandomAffine",
    "RandomApply",
    "RandomChoice",
    "RandomCrop",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomOrder",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
    "TrivialAugmentWide",
    "apply_batch",
    "functional",
    "is_batchable",
    "v2",
]
