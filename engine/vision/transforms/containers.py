"""Random choices among transforms: apply them all or none, one of them, or all in a random order."""

from collections.abc import Sequence

from ...nn.module import Module
from ...utils.data import current_rng


class RandomApply(Module):
    """Apply all ``transforms`` with probability ``p``, or none."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < current_rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}(\n    p={self.p}{lines}\n)"


class RandomTransforms:
    """A list of transforms to choose from."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class RandomOrder(RandomTransforms):
    """Apply all ``transforms`` in a random order."""

    def __call__(self, img):
        for i in current_rng().permutation(len(self.transforms)):
            img = self.transforms[i](img)
        return img


class RandomChoice(RandomTransforms):
    """Apply one of ``transforms``, picked with weights ``p`` (equal when None)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args):
        weights = None
        if self.p is not None:
            total = float(sum(self.p))
            weights = [w / total for w in self.p]
        t = self.transforms[int(current_rng().choice(len(self.transforms), p=weights))]
        return t(*args)

    def __repr__(self):
        return f"{super().__repr__()}(p={self.p})"
