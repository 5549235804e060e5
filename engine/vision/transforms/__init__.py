"""``torchvision.transforms`` (the v1 API): every transform takes a PIL image or an image tensor (..., C, H, W)
and returns the same kind, as torchvision does. Random transforms draw from
``engine.utils.data.current_rng()``, so ``engine.manual_seed`` fixes them and a loader gives the same batches
with any number of workers. Most transforms also run over a whole batch at once (``compose.apply_batch``),
which in-memory image datasets use (``engine.vision.image_batch``)."""

from .color import ColorJitter, Grayscale, Normalize
from .compose import Compose, Lambda, apply_batch, is_batchable
from .conversion import PILToTensor, ToPILImage, ToTensor
from .geometry import CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, Resize
from .image_ops import InterpolationMode

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
    "apply_batch",
    "is_batchable",
]
