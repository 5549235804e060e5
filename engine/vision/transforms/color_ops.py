"""Point and histogram operations of the augmentation policies (invert, posterize, solarize, autocontrast,
equalize, sharpness, gamma), dtype conversion of image tensors and erasing. PIL images use Pillow's
ImageOps/ImageEnhance, as torchvision does; tensors and arrays torchvision's tensor formulas, on their
device."""

import numpy as np
from PIL import ImageEnhance, ImageOps

from ... import dtypes
from ...backend import device_context, device_of
from ...tensor import Tensor
from .image_ops import _array_of, _get_dimensions, _is_pil, _like, _xp

_MAX_VALUE = {np.dtype(np.uint8): 255, np.dtype(np.int8): 127, np.dtype(np.int16): 32767,
              np.dtype(np.uint16): 65535, np.dtype(np.int32): 2147483647, np.dtype(np.int64): 9223372036854775807}


def _max_value(dtype):
    """The value of full intensity: 1 for floats, the largest value for integers."""
    return _MAX_VALUE.get(np.dtype(dtype), 1)


def _check_tensor_image(img, min_ndim=3, channels=(1, 3)):
    if not isinstance(img, (Tensor, np.ndarray)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    arr = _array_of(img)
    if arr.ndim < min_ndim:
        raise TypeError(f"Input image tensor should have at least {min_ndim} dimensions, but found {arr.ndim}")
    c = _get_dimensions(img)[0]
    if channels is not None and c not in channels:
        raise TypeError(f"Input image tensor permitted channel values are {list(channels)}, but found {c}")
    return arr


def _on_device(img, fn, *args):
    """``fn(array, *args)`` on the image's device, returned as the same kind as ``img``."""
    arr = _array_of(img)
    with device_context(device_of(arr)):
        return _like(img, fn(arr, *args))


def _convert_array_dtype(x, dtype):
    """torchvision's ``convert_image_dtype`` on a raw array: floats in [0, 1], integers in [0, max]."""
    xp = _xp(x)
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "f":
        if dtype.kind == "f":
            return x.astype(dtype)
        if (x.dtype == np.float32 and dtype in (np.int32, np.int64)) or (x.dtype == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {dtypes.from_numpy(x.dtype)} to {dtypes.from_numpy(dtype)} cannot be "
                               "performed safely.")
        # max + 1 - eps maps [0, 1] evenly onto the integers, with only 1.0 reaching the largest one
        return (x * x.dtype.type(_max_value(dtype) + 1.0 - 1e-3)).astype(dtype)
    input_max = _max_value(x.dtype)
    if dtype.kind == "f":
        return x.astype(dtype) / dtype.type(input_max)
    output_max = _max_value(dtype)
    if input_max > output_max:
        return xp.floor_divide(x, (input_max + 1) // (output_max + 1)).astype(dtype)
    return x.astype(dtype) * dtype.type((output_max + 1) // (input_max + 1))


def _convert_image_dtype(image, dtype=None):
    if not isinstance(image, (Tensor, np.ndarray)):
        raise TypeError("Input img should be Tensor Image")
    dtype = dtypes.float32 if dtype is None else dtype
    return _on_device(image, _convert_array_dtype, dtype.np if isinstance(dtype, dtypes.dtype) else dtype)


def _invert(img):
    if _is_pil(img):
        return ImageOps.invert(img)
    _check_tensor_image(img)
    return _on_device(img, lambda x: (x.dtype.type(_max_value(x.dtype)) - x).astype(x.dtype, copy=False))


def _posterize(img, bits):
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if _is_pil(img):
        return ImageOps.posterize(img, bits)
    arr = _check_tensor_image(img)
    if arr.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {dtypes.from_numpy(arr.dtype)}")
    mask = np.uint8((0xFF << (8 - bits)) & 0xFF)
    return _on_device(img, lambda x: x & mask)


def _solarize(img, threshold):
    if _is_pil(img):
        return ImageOps.solarize(img, threshold)
    arr = _check_tensor_image(img)
    bound = _max_value(arr.dtype)
    if threshold > bound:
        raise TypeError("Threshold should be less than bound of img.")
    return _on_device(img, lambda x: _xp(x).where(x >= threshold, (x.dtype.type(bound) - x).astype(x.dtype), x))


def _blend_array(x1, x2, ratio):
    """``ratio * x1 + (1 - ratio) * x2`` clamped to the dtype's range, truncated back to ``x1``'s dtype."""
    xp = _xp(x1)
    ft = x1.dtype if x1.dtype.kind == "f" else np.dtype(np.float32)
    out = ft.type(ratio) * x1.astype(ft, copy=False) + ft.type(1.0 - ratio) * x2.astype(ft, copy=False)
    return xp.clip(out, 0, _max_value(x1.dtype)).astype(x1.dtype)


def _sharpness_array(x, factor):
    """Blend with the image smoothed by torchvision's 3x3 kernel (centre weight 5 of 13), borders kept; the
    kernel is normalised first, as torchvision's, so that uint8 results round the same way."""
    ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    src = x.astype(ft, copy=False)
    h, w = x.shape[-2:]
    weights = np.full((3, 3), 1.0, dtype=ft)
    weights[1, 1] = 5.0
    weights /= weights.sum()
    smooth = sum(src[..., dy:dy + h - 2, dx:dx + w - 2] * weights[dy, dx] for dy in range(3) for dx in range(3))
    if x.dtype.kind != "f":
        smooth = _xp(x).rint(smooth)
    degenerate = x.copy()
    degenerate[..., 1:-1, 1:-1] = smooth.astype(x.dtype)
    return _blend_array(x, degenerate, factor)


def _adjust_sharpness(img, sharpness_factor):
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    if _is_pil(img):
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    arr = _check_tensor_image(img, min_ndim=2)
    if arr.shape[-1] <= 2 or arr.shape[-2] <= 2:
        return img
    return _on_device(img, _sharpness_array, sharpness_factor)


def _gamma_array(x, gamma, gain):
    xp = _xp(x)
    result = x if x.dtype.kind == "f" else _convert_array_dtype(x, np.float32)
    result = xp.clip(result.dtype.type(gain) * result ** result.dtype.type(gamma), 0, 1)
    return _convert_array_dtype(result, x.dtype)


def _adjust_gamma(img, gamma, gain=1):
    if _is_pil(img):
        if gamma < 0:
            raise ValueError("Gamma should be a non-negative real number")
        input_mode = img.mode
        img = img.convert("RGB")
        gamma_map = [int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma)) for ele in range(256)] * 3
        return img.point(gamma_map).convert(input_mode)
    _check_tensor_image(img, min_ndim=2)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    return _on_device(img, _gamma_array, gamma, gain)


def _autocontrast_array(x):
    xp = _xp(x)
    bound = _max_value(x.dtype)
    ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    minimum = x.min(axis=(-2, -1), keepdims=True).astype(ft)
    maximum = x.max(axis=(-2, -1), keepdims=True).astype(ft)
    flat = maximum == minimum
    # bound * (1 / range): torch evaluates a number over a tensor as the tensor's reciprocal times the number
    scale = ft.type(bound) * (ft.type(1) / xp.where(flat, ft.type(1), maximum - minimum))
    minimum = xp.where(flat, ft.type(0), minimum)
    scale = xp.where(flat, ft.type(1), scale)
    return xp.clip((x - minimum) * scale, 0, bound).astype(x.dtype)


def _autocontrast(img):
    if _is_pil(img):
        return ImageOps.autocontrast(img)
    _check_tensor_image(img)
    return _on_device(img, _autocontrast_array)


def _equalize_array(x):
    """Per-channel histogram equalisation, torchvision's lookup table (the step leaves out the last
    non-empty bin; a channel with a single value is kept)."""
    xp = _xp(x)
    out = xp.empty_like(x)
    planes, result = x.reshape(-1, *x.shape[-2:]), out.reshape(-1, *x.shape[-2:])
    for k in range(planes.shape[0]):
        plane = planes[k]
        hist = xp.bincount(plane.ravel(), minlength=256)
        nonzero = hist[hist != 0]
        step = int(nonzero[:-1].sum()) // 255
        if step == 0:
            result[k] = plane
            continue
        lut = (xp.cumsum(hist) + step // 2) // step
        lut = xp.clip(xp.concatenate([xp.zeros(1, dtype=lut.dtype), lut[:-1]]), 0, 255)
        result[k] = lut[plane.astype(np.int64)].astype(np.uint8)
    return out


def _equalize(img):
    if _is_pil(img):
        return ImageOps.equalize(img)
    arr = _check_tensor_image(img)
    if arr.ndim > 4:
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found {arr.ndim}")
    if arr.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {dtypes.from_numpy(arr.dtype)}")
    return _on_device(img, _equalize_array)


def _erase(img, i, j, h, w, v, inplace=False):
    """``img`` with the window (i, j, h, w) set to ``v`` (a number, an array or a tensor that broadcasts)."""
    if not isinstance(img, (Tensor, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    arr = _array_of(img)
    value = _array_of(v) if isinstance(v, Tensor) else v
    with device_context(device_of(arr)):
        xp = _xp(arr)
        out = arr if inplace else arr.copy()
        out[..., i:i + h, j:j + w] = xp.asarray(value).astype(arr.dtype, copy=False)
    if inplace:
        if isinstance(img, Tensor):
            img._bump_version()
        return img
    return _like(img, out)
