"""Operations on one image or a batch (PIL image, NumPy array or engine tensor, on any device) that the
transforms share: padding, cropping, flipping, resizing, conversions, grey scale, colour adjustments."""

import numbers
from collections.abc import Sequence
from enum import Enum

import numpy as np
from PIL import Image

from ... import dtypes
from ...backend import CPU, array_module, device_context, device_of, transfer
from ...ops.pad import pad as _tpad
from ...tensor import Tensor, make_tensor


class InterpolationMode(Enum):
    """Interpolation modes, as torchvision's."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_RESAMPLE = {
    InterpolationMode.NEAREST: Image.Resampling.NEAREST,
    InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BOX: Image.Resampling.BOX,
    InterpolationMode.HAMMING: Image.Resampling.HAMMING,
    InterpolationMode.LANCZOS: Image.Resampling.LANCZOS,
}


_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _is_pil(img):
    return isinstance(img, Image.Image)


def _check_image(img):
    if not (_is_pil(img) or isinstance(img, (Tensor, np.ndarray))):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _get_dimensions(img):
    """[channels, height, width] of a PIL image or a (..., C, H, W) tensor/array."""
    _check_image(img)
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    shape = tuple(img.shape)
    if len(shape) == 2:
        return [1, shape[0], shape[1]]
    if len(shape) < 2:
        raise TypeError(f"Tensor is not a torch image: expected at least 2 dimensions, got {len(shape)}")
    return [shape[-3], shape[-2], shape[-1]]


def _array_of(img):
    """The raw array of a tensor (NumPy or CuPy) or the ndarray itself."""
    return img._data if isinstance(img, Tensor) else img


def _like(img, arr):
    """``arr`` returned as the same kind as ``img`` (a tensor on its device, or an ndarray)."""
    if isinstance(img, Tensor):
        return make_tensor(arr, img._device)
    return arr


def _xp(arr):
    return array_module(device_of(arr))


def _device_of_image(img):
    return img._device if isinstance(img, Tensor) else CPU


def _setup_size(size, error_msg):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


def _parse_padding(padding):
    """torchvision's padding argument as (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return [p, p, p, p]
    padding = list(padding)
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])]
    if len(padding) == 4:
        return [int(p) for p in padding]
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _check_pad_args(padding, fill, padding_mode):
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _pad_array(x, ltrb, fill, padding_mode, hw, channel_axis):
    """Pad the spatial axes ``hw`` of ``x`` by (left, top, right, bottom)."""
    if min(ltrb) < 0:
        raise ValueError("negative padding is not supported")
    with device_context(device_of(x)):
        return _pad_array_here(x, ltrb, fill, padding_mode, hw, channel_axis)


def _pad_array_here(x, ltrb, fill, padding_mode, hw, channel_axis):
    left, top, right, bottom = ltrb
    xp = _xp(x)
    widths = [(0, 0)] * x.ndim
    widths[hw[0]] = (top, bottom)
    widths[hw[1]] = (left, right)
    if padding_mode != "constant":
        return xp.pad(x, widths, mode=padding_mode)
    shape = list(x.shape)
    shape[hw[0]] += top + bottom
    shape[hw[1]] += left + right
    out = xp.empty(shape, dtype=x.dtype)
    fills = fill if isinstance(fill, (tuple, list)) else [fill]
    if len(fills) == 1 or channel_axis is None:
        out[...] = fills[0]
    else:
        view_shape = [1] * x.ndim
        view_shape[channel_axis] = len(fills)
        out[...] = xp.asarray(fills, dtype=x.dtype).reshape(view_shape)
    index = [slice(None)] * x.ndim
    index[hw[0]] = slice(top, top + x.shape[hw[0]])
    index[hw[1]] = slice(left, left + x.shape[hw[1]])
    out[tuple(index)] = x
    return out


def _gray_uint8_pil(x, channel_axis):
    """PIL's RGB -> L conversion on a uint8 array: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16."""
    r, g, b = (np.take(x, c, axis=channel_axis).astype(np.uint32) for c in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def _gray_tensor(x, channel_axis):
    """torchvision's tensor formula, 0.2989 R + 0.587 G + 0.114 B, in float32 (or the float dtype),
    truncated back to the input's dtype."""
    xp = _xp(x)
    ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    r, g, b = (xp.take(x, c, axis=channel_axis).astype(ft, copy=False) for c in range(3))
    l_img = ft.type(0.2989) * r + ft.type(0.587) * g + ft.type(0.114) * b
    return l_img.astype(x.dtype)


def _pad(img, padding, fill=0, padding_mode="constant"):
    ltrb = _parse_padding(padding)
    if _is_pil(img):
        arr = np.asarray(img)
        palette = img.getpalette() if img.mode == "P" else None
        channel_axis = 2 if arr.ndim == 3 else None
        out = _pad_array(arr, ltrb, fill, padding_mode, (0, 1), channel_axis)
        result = Image.fromarray(out, mode=img.mode) if img.mode in ("1", "L", "P", "RGB", "RGBA", "I", "F") \
            else Image.fromarray(out)
        if palette is not None:
            result.putpalette(palette)
        return result
    arr = _array_of(img)
    nd = arr.ndim
    if isinstance(img, Tensor) and img.requires_grad and padding_mode != "symmetric" and \
            isinstance(fill, numbers.Number):
        mode = {"edge": "replicate"}.get(padding_mode, padding_mode)
        return _tpad(img, (ltrb[0], ltrb[2], ltrb[1], ltrb[3]), mode=mode,
                     value=float(fill) if mode == "constant" else None)
    out = _pad_array(arr, ltrb, fill, padding_mode, (nd - 2, nd - 1), nd - 3 if nd >= 3 else None)
    return _like(img, out)


def _crop(img, top, left, height, width):
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = _get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return _pad(img[..., max(top, 0):bottom, max(left, 0):right], ltrb, fill=0)
    return img[..., top:bottom, left:right]


def _flip(img, axis_from_end):
    if isinstance(img, Tensor):
        return img.flip(axis_from_end)
    xp = _xp(img)
    return xp.ascontiguousarray(xp.flip(img, axis=img.ndim + axis_from_end))


def _hflip(img):
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    _check_image(img)
    return _flip(img, -1)


def _vflip(img):
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    _check_image(img)
    return _flip(img, -2)


def _center_crop(img, output_size):
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = _get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = _pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = _get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = round((image_height - crop_height) / 2.0)
    crop_left = round((image_width - crop_width) / 2.0)
    return _crop(img, crop_top, crop_left, crop_height, crop_width)


def _compute_resized_output_size(image_size, size, max_size=None):
    h, w = image_size
    if isinstance(size, numbers.Number) or len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        requested_new_short = size if isinstance(size, numbers.Number) else size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for "
                                 f"the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return [new_h, new_w]
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. "
                         "size should be an int or a sequence of length 1 in torchscript mode.")
    return [int(size[0]), int(size[1])]


def _resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None):
    _, h, w = _get_dimensions(img)
    out_h, out_w = _compute_resized_output_size((h, w), size, max_size)
    if [h, w] == [out_h, out_w]:
        return img
    resample = _PIL_RESAMPLE[interpolation]
    if _is_pil(img):
        return img.resize((out_w, out_h), resample)
    # Tensors: resample each plane with Pillow (mode 'L' for uint8, 'F' otherwise), which antialiases
    # like torchvision's antialias=True path.
    arr = _array_of(img)
    dev = img._device if isinstance(img, Tensor) else CPU
    host = transfer(arr, dev, CPU)
    lead = host.shape[:-2]
    planes = host.reshape(-1, h, w)
    out = np.empty((planes.shape[0], out_h, out_w), dtype=host.dtype)
    for k, plane in enumerate(planes):
        if host.dtype == np.uint8:
            res = Image.fromarray(np.ascontiguousarray(plane), mode="L").resize((out_w, out_h), resample)
            out[k] = np.asarray(res)
        else:
            res = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
            res = np.asarray(res.resize((out_w, out_h), resample))
            out[k] = np.round(res) if host.dtype.kind in "iu" else res
    return _like(img, transfer(out.reshape((*lead, out_h, out_w)), CPU, dev))


def _to_grayscale(img, num_output_channels=1):
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        out = img.convert("L")
        if num_output_channels == 3:
            arr = np.asarray(out)
            out = Image.fromarray(np.dstack([arr, arr, arr]), "RGB")
        return out
    arr = _array_of(img)
    if arr.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {arr.ndim}")
    c = arr.shape[-3]
    if c not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {c}")
    xp = _xp(arr)
    with device_context(device_of(arr)):
        l_img = _gray_tensor(arr, arr.ndim - 3)[..., None, :, :] if c == 3 else arr.copy()
        if num_output_channels == 3:
            l_img = xp.ascontiguousarray(xp.broadcast_to(l_img, (*l_img.shape[:-3], 3, *l_img.shape[-2:])))
    return _like(img, l_img)


_PIL_MODE_DTYPE = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def _to_tensor(pic):
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    float_dtype = dtypes.get_default_dtype().np
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        arr = np.ascontiguousarray(pic.transpose((2, 0, 1)))
    else:
        arr = np.array(pic, _PIL_MODE_DTYPE.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = 255 * arr
        arr = np.ascontiguousarray(arr.reshape(pic.height, pic.width, len(pic.getbands())).transpose((2, 0, 1)))
    if arr.dtype == np.uint8:
        return make_tensor(arr.astype(float_dtype) / float_dtype.type(255), CPU)
    return make_tensor(arr, CPU)


def _pil_to_tensor(pic):
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.height, pic.width, len(pic.getbands()))
    return make_tensor(np.ascontiguousarray(arr.transpose((2, 0, 1))), CPU)


def _to_pil_image(pic, mode=None):
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic.detach()._host()
        if arr.ndim == 2:
            arr = arr[None]
        if arr.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-3]} channels.")
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * 255).astype(np.uint8)
        arr = np.transpose(arr, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        if arr.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.shape[2] == 1:
        expected = None
        arr = arr[:, :, 0]
        if arr.dtype == np.uint8:
            expected = "L"
        elif arr.dtype == np.int16:
            expected = "I;16"
        elif arr.dtype == np.int32:
            expected = "I"
        elif arr.dtype == np.float32:
            expected = "F"
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be {expected}")
        mode = expected
        if mode == "I;16":
            return Image.fromarray(arr.astype("<u2"), mode="I;16")
    elif arr.shape[2] == 2:
        if mode is not None and mode != "LA":
            raise ValueError("Only modes ['LA'] are supported for 2D inputs")
        mode = "LA"
    elif arr.shape[2] == 4:
        if mode is not None and mode not in ("RGBA", "CMYK", "RGBX"):
            raise ValueError("Only modes ['RGBA', 'CMYK', 'RGBX'] are supported for 4D inputs")
        mode = mode or "RGBA"
    else:
        if mode is not None and mode not in ("RGB", "YCbCr", "HSV"):
            raise ValueError("Only modes ['RGB', 'YCbCr', 'HSV'] are supported for 3D inputs")
        mode = mode or "RGB"
    if mode is None:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    if arr.dtype != np.uint8 and mode not in ("I", "F"):
        arr = arr.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr), mode=mode) if mode in ("L", "I", "F") \
        else Image.frombytes(mode, (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr).tobytes())


def _normalize(tensor, mean, std, inplace=False):
    if not isinstance(tensor, (Tensor, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    arr = _array_of(tensor)
    if arr.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {dtypes.from_numpy(arr.dtype)}.")
    if arr.ndim < 3:
        shape = tensor.size() if isinstance(tensor, Tensor) else tuple(arr.shape)
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {shape}")
    mean_h = np.asarray(mean, dtype=arr.dtype).reshape(-1, 1, 1)
    std_h = np.asarray(std, dtype=arr.dtype).reshape(-1, 1, 1)
    if (std_h == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtypes.from_numpy(arr.dtype)}, leading to "
                         "division by zero.")
    dev = device_of(arr)
    xp = array_module(dev)
    mean_a, std_a = transfer(mean_h, CPU, dev), transfer(std_h, CPU, dev)
    if isinstance(tensor, Tensor) and tensor.requires_grad:
        m, s = make_tensor(mean_a, tensor._device), make_tensor(std_a, tensor._device)
        return tensor.sub_(m).div_(s) if inplace else tensor.sub(m).div(s)
    with device_context(dev):
        if inplace:
            xp.subtract(arr, mean_a, out=arr)
            xp.divide(arr, std_a, out=arr)
            if isinstance(tensor, Tensor):
                tensor._bump_version()
            return tensor
        return _like(tensor, (arr - mean_a) / std_a)


def _batch_axes(x, channels_last):
    """(height axis, width axis, channel axis) of a batch."""
    return (1, 2, 3) if channels_last else (x.ndim - 2, x.ndim - 1, x.ndim - 3)


def _writable(x):
    return x if x.flags.writeable else x.copy()


def _blend(img1, img2, ratio, bound):
    out = ratio * img1 + (1.0 - ratio) * img2
    out = np.clip(out, 0, bound)
    return out


def _to_float_parts(img):
    """A CHW float32 array in [0, bound] of a tensor/ndarray image, with its bound and dtype."""
    host = transfer(_array_of(img), _device_of_image(img), CPU)
    bound = 1.0 if host.dtype.kind == "f" else 255.0
    return host.astype(np.float32, copy=False), bound, host.dtype


def _from_float_parts(img, out, dtype):
    out = out.astype(dtype) if dtype.kind == "f" else np.floor(out).astype(dtype)  # truncation, as .to(uint8)
    return _like(img, transfer(out, CPU, _device_of_image(img)))


def _rgb_to_hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc = np.max(img, axis=-3)
    minc = np.min(img, axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = hr + hg + hb
    h = np.fmod((h / 6.0 + 1.0), 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv_to_rgb(img):
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.astype(np.int32)
    p = np.clip((v * (1.0 - s)), 0.0, 1.0)
    q = np.clip((v * (1.0 - s * f)), 0.0, 1.0)
    t = np.clip((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    i = i % 6
    mask = i[..., None, :, :] == np.arange(6).reshape(-1, 1, 1)
    a1 = np.stack((v, q, p, p, t, v), axis=-3)
    a2 = np.stack((t, v, v, q, p, p), axis=-3)
    a3 = np.stack((p, p, t, v, v, q), axis=-3)
    a4 = np.stack((a1, a2, a3), axis=-4)
    return np.einsum("...ijk, ...xijk -> ...xjk", mask.astype(img.dtype), a4)


def _adjust_brightness(img, factor):
    if _is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Brightness(img).enhance(factor)
    x, bound, dtype = _to_float_parts(img)
    return _from_float_parts(img, _blend(x, np.zeros_like(x), factor, bound), dtype)


def _gray_mean(x, dtype):
    if x.shape[-3] == 3:
        gray = np.float32(0.2989) * x[..., 0, :, :] + np.float32(0.587) * x[..., 1, :, :] + \
            np.float32(0.114) * x[..., 2, :, :]
        if dtype.kind != "f":
            gray = np.floor(gray)
    else:
        gray = x[..., 0, :, :]
    return gray.mean(axis=(-2, -1), keepdims=True)[..., None, :, :]


def _adjust_contrast(img, factor):
    if _is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Contrast(img).enhance(factor)
    x, bound, dtype = _to_float_parts(img)
    return _from_float_parts(img, _blend(x, _gray_mean(x, dtype), factor, bound), dtype)


def _adjust_saturation(img, factor):
    if _is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Color(img).enhance(factor)
    x, bound, dtype = _to_float_parts(img)
    if x.shape[-3] == 1:
        return img
    gray = np.float32(0.2989) * x[..., 0, :, :] + np.float32(0.587) * x[..., 1, :, :] + \
        np.float32(0.114) * x[..., 2, :, :]
    if dtype.kind != "f":
        gray = np.floor(gray)
    return _from_float_parts(img, _blend(x, gray[..., None, :, :], factor, bound), dtype)


def _adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        input_mode = img.mode
        if input_mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        with np.errstate(over="ignore"):
            np_h += np.array(hue_factor * 255).astype(np.uint8)
        h = Image.fromarray(np_h, "L")
        return Image.merge("HSV", (h, s, v)).convert(input_mode)
    x, _, dtype = _to_float_parts(img)
    if x.shape[-3] == 1:
        return img
    if dtype.kind != "f":
        x = x / np.float32(255.0)
    hsv = _rgb_to_hsv(x)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + np.float32(hue_factor), 1.0)
    out = _hsv_to_rgb(hsv).astype(np.float32)
    if dtype.kind != "f":
        out = out * np.float32(255.0 + 1.0 - 1e-3)  # convert_image_dtype's float -> uint8 scale, then truncation
    return _from_float_parts(img, out, dtype)
