"""Composing transforms, and running them over a whole batch held as one NumPy array. A transform with a
batched form defines ``apply_batch(images, rng, channels_last)``: (N, H, W, C) stands for PIL images,
(N, C, H, W) for tensors, and ``batch_layout`` says which one a step leaves (``ToTensor`` changes it); it
may modify its input. Deterministic steps give exactly the per-image results; random ones draw independent
parameters per image, so they agree in distribution, not image for image."""

from ...utils.data import current_rng


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        format_string = self.__class__.__name__ + "("
        for t in self.transforms:
            format_string += "\n"
            format_string += f"    {t}"
        format_string += "\n)"
        return format_string

    @property
    def batchable(self):
        return all(is_batchable(t) for t in self.transforms)

    def batch_layout(self, channels_last):
        for t in self.transforms:
            channels_last = _layout_after(t, channels_last)
        return channels_last

    def apply_batch(self, images, rng=None, channels_last=False):
        rng = current_rng() if rng is None else rng
        for t in self.transforms:
            images = t.apply_batch(images, rng, channels_last)
            channels_last = _layout_after(t, channels_last)
        return images


def _layout_after(t, channels_last):
    layout = getattr(t, "batch_layout", None)
    return channels_last if layout is None else layout(channels_last)


def is_batchable(transform):
    """Whether ``transform`` (a transform or a ``Compose`` of them) has a batched form."""
    if isinstance(transform, Compose):
        return transform.batchable
    return callable(getattr(transform, "apply_batch", None))


def apply_batch(transform, images, rng=None, return_layout=False):
    """Apply ``transform`` to a batch of images stored as a dataset keeps them.

    ``images`` is an (N, H, W, C) or (N, H, W) array whose rows the per-image path would hand to the
    transform as PIL images; it may be modified in place. Returns the transformed batch (N, C, H, W
    once a ``ToTensor`` has run), and with ``return_layout`` also whether it is still channels-last.
    Raises ``NotImplementedError`` when some step cannot run on this batch exactly as it would per
    image (callers then fall back to the per-image path).
    """
    if not is_batchable(transform):
        raise NotImplementedError(f"{transform!r} has no batched form")
    if images.ndim == 3:
        images = images[..., None]
    rng = current_rng() if rng is None else rng
    out = transform.apply_batch(images, rng, True)
    if return_layout:
        return out, _layout_after(transform, True)
    return out


class Lambda:
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{self.__class__.__name__}()"
