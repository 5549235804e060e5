"""``torchvision.transforms.functional`` (``F``): the transforms' operations with explicit parameters, on PIL
images and on image tensors (..., C, H, W) of any dtype and device."""

from ... import dtypes
from ...ops.interpolate import interpolate as _interpolate
from ...tensor import Tensor
from .color_ops import (
    _adjust_gamma,
    _adjust_sharpness,
    _autocontrast,
    _convert_image_dtype,
    _equalize,
    _erase,
    _invert,
    _posterize,
    _solarize,
)
from .geometry_ops import _affine, _gaussian_blur, _interpolation_mode, _rotate
from .image_ops import (
    InterpolationMode,
    _adjust_brightness,
    _adjust_contrast,
    _adjust_hue,
    _adjust_saturation,
    _center_crop,
    _check_image,
    _compute_resized_output_size,
    _crop,
    _get_dimensions,
    _hflip,
    _is_pil,
    _normalize,
    _pad,
    _pil_to_tensor,
    _resize,
    _to_grayscale,
    _to_pil_image,
    _to_tensor,
    _vflip,
)

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation",
    "adjust_sharpness", "affine", "autocontrast", "center_crop", "convert_image_dtype", "crop", "equalize", "erase",
    "gaussian_blur", "get_dimensions", "get_image_num_channels", "get_image_size", "hflip", "invert", "normalize",
    "pad", "pil_to_tensor", "posterize", "resize", "resized_crop", "rgb_to_grayscale", "rotate", "solarize",
    "to_grayscale", "to_pil_image", "to_tensor", "vflip",
]

to_tensor = _to_tensor
pil_to_tensor = _pil_to_tensor
to_pil_image = _to_pil_image
normalize = _normalize
convert_image_dtype = _convert_image_dtype
hflip = _hflip
vflip = _vflip
center_crop = _center_crop
rotate = _rotate
affine = _affine
gaussian_blur = _gaussian_blur
adjust_hue = _adjust_hue
adjust_gamma = _adjust_gamma
adjust_sharpness = _adjust_sharpness
posterize = _posterize
solarize = _solarize
autocontrast = _autocontrast
equalize = _equalize
invert = _invert
erase = _erase


def get_dimensions(img):
    """[channels, height, width]."""
    return _get_dimensions(img)


def get_image_size(img):
    """[width, height]."""
    _, h, w = _get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return _get_dimensions(img)[0]


def _check_factor(name, factor):
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    _check_factor("brightness_factor", brightness_factor)
    return _adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    _check_factor("contrast_factor", contrast_factor)
    return _adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    _check_factor("saturation_factor", saturation_factor)
    return _adjust_saturation(img, saturation_factor)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``: PIL images and arrays with Pillow's resampling, tensors as torchvision's tensor path
    (``interpolate`` in float, antialiased for bilinear and bicubic when ``antialias``, rounded back)."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(img, Tensor):
        return _resize(img, size, interpolation, max_size)
    _, h, w = _get_dimensions(img)
    out_size = _compute_resized_output_size((h, w), size, max_size)
    if [h, w] == out_size:
        return img
    if interpolation not in _TENSOR_MODES:
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    smooth = interpolation in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    x = img if img.ndim >= 4 else img.unsqueeze(0)
    cast = x.dtype not in (dtypes.float32, dtypes.float64)
    out = _interpolate(x.float() if cast else x, size=out_size, mode=interpolation.value,
                       align_corners=False if smooth else None, antialias=bool(antialias) and smooth)
    if interpolation == InterpolationMode.BICUBIC and img.dtype is dtypes.uint8:
        out = out.clamp(0, 255)
    if img.ndim < 4:
        out = out.squeeze(0)
    if cast:
        out = (out.round() if not img.dtype.is_floating_point else out).to(img.dtype)
    return out


_TENSOR_MODES = (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT, InterpolationMode.BILINEAR,
                 InterpolationMode.BICUBIC)


def pad(img, padding, fill=0, padding_mode="constant"):
    return _pad(img, padding, fill, padding_mode)


def crop(img, top, left, height, width):
    _check_image(img)
    return _crop(img, top, left, height, width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop the window (top, left, height, width), then resize it to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def to_grayscale(img, num_output_channels=1):
    if not _is_pil(img):
        raise TypeError("Input should be PIL Image")
    return _to_grayscale(img, num_output_channels)


def rgb_to_grayscale(img, num_output_channels=1):
    return _to_grayscale(img, num_output_channels)
