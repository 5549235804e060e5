"""Pretrained weights as torchvision describes them (``ResNet18_Weights.IMAGENET1K_V1``): where the file is, the
preprocessing it expects, and facts about it; and the registry behind ``get_model`` and ``list_models``.

A weight file comes from ``engine.hub``'s cache (``~/.cache/torch/hub/checkpoints``, shared with PyTorch) or is
downloaded there once, checked against the SHA-256 prefix in its name, and read by the safe loader.
"""

import fnmatch
import os
from dataclasses import dataclass, field
from enum import Enum
from functools import partial

from ...hub import load_state_dict_from_url
from ..transforms.image_ops import InterpolationMode
from .presets import ImageClassification

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights", "get_weight",
           "list_models", "register_model"]

_CATEGORIES_FILE = os.path.join(os.path.dirname(__file__), "imagenet_categories.txt")
with open(_CATEGORIES_FILE, encoding="utf-8") as _f:
    IMAGENET_CATEGORIES = tuple(line.rstrip("\n") for line in _f)


@dataclass(eq=True, frozen=True)
class Weights:
    """One weight file: its ``url``, a constructor of its preprocessing ``transforms``, and ``meta``."""

    url: str
    transforms: partial
    meta: dict = field(hash=False)


def imagenet(url, num_params, min_size, crop=224, resize=256, interpolation=InterpolationMode.BILINEAR,
             categories=IMAGENET_CATEGORIES, **normalisation):
    """The ``Weights`` of an ImageNet-1k classifier, whose file name ends in its SHA-256 prefix; ``categories``
    None for weights whose classifier is not usable (feature extractors)."""
    return Weights(url=url,
                   transforms=partial(ImageClassification, crop_size=crop, resize_size=resize,
                                      interpolation=interpolation, **normalisation),
                   meta={"categories": None if categories is None else list(categories), "num_params": num_params,
                         "min_size": min_size})


class WeightsEnum(Enum):
    """The weights one model builder accepts; each member's value is a ``Weights``."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member: None stays None, a name ("IMAGENET1K_V1" or "ResNet18_Weights.IMAGENET1K_V1")
        is looked up, another enum's member is refused."""
        if obj is None:
            return None
        if type(obj) is str:
            name = obj.replace(cls.__name__ + ".", "")
            if name not in cls.__members__:
                raise KeyError(f"{name!r} is not one of {cls.__name__}'s weights: {', '.join(cls.__members__)}")
            return cls[name]
        if not isinstance(obj, cls):
            raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                            f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def build(model_cls, weights, progress, *args, **kwargs):
    """``model_cls(*args, **kwargs)`` with ``weights``' state loaded (their class count unless given)."""
    if weights is not None and weights.meta["categories"] is not None:
        categories = len(weights.meta["categories"])
        given = kwargs.setdefault("num_classes", categories)
        if given != categories:
            raise ValueError(f"The parameter 'num_classes' expected value {categories} but got {given} instead.")
    model = model_cls(*args, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


BUILTIN_MODELS = {}
_WEIGHTS_OF = {}


def register_model(weights_enum):
    """Record a model builder under its name, with the enum of weights it takes."""
    def wrapper(fn):
        if fn.__name__ in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{fn.__name__}'.")
        BUILTIN_MODELS[fn.__name__] = fn
        _WEIGHTS_OF[fn.__name__] = weights_enum
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """The names of the registered models (of ``module`` only, if given), filtered by shell-style patterns."""
    names = {k for k, fn in BUILTIN_MODELS.items()
             if module is None or fn.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        include = [include] if isinstance(include, str) else include
        names = set().union(*(fnmatch.filter(names, pattern) for pattern in include))
    for pattern in [exclude] if isinstance(exclude, str) else (exclude or ()):
        names -= set(fnmatch.filter(names, pattern))
    return sorted(names)


def get_model_builder(name):
    try:
        return BUILTIN_MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The weights enum of the model ``name`` (or builder)."""
    key = name if isinstance(name, str) else name.__name__
    get_model_builder(key)
    return _WEIGHTS_OF[key.lower()]


def get_weight(name):
    """The member named ``"ResNet50_Weights.IMAGENET1K_V2"``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for enum in _WEIGHTS_OF.values():
        if enum.__name__ == enum_name:
            return enum[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
