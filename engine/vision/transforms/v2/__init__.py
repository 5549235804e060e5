"""``torchvision.transforms.v2``: the same transforms as v1 (``engine.vision.transforms``), plus ``ToImage`` and
``ToDtype``, which v2 pipelines use in place of ``ToTensor``."""

from .. import functional as functional
from ..auto_augment import AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from ..blur import GaussianBlur
from ..color import ColorJitter, Grayscale, Normalize, RandomGrayscale
from ..compose import Compose, Lambda
from ..containers import RandomApply, RandomChoice, RandomOrder
from ..conversion import PILToTensor, ToPILImage
from ..erasing import RandomErasing
from ..geometry import CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, Resize
from ..geometry_random import RandomAffine, RandomResizedCrop, RandomRotation
from ..image_ops import InterpolationMode
from .conversion import ToDtype, ToImage

__all__ = [
    "AutoAugment", "AutoAugmentPolicy", "CenterCrop", "ColorJitter", "Compose", "GaussianBlur", "Grayscale",
    "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad", "RandAugment", "RandomAffine", "RandomApply",
    "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder",
    "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToDtype", "ToImage", "ToPILImage",
    "TrivialAugmentWide", "functional",
]
