"""Affine warps (rotate, affine) and Gaussian blur of one image or a batch. PIL images go through Pillow's own
transforms, as torchvision's do; tensors and arrays through a sampling grid built as torchvision's
(``affine_grid`` + ``grid_sample`` with ``align_corners=False``), on the image's own device."""

import math
import numbers

import numpy as np
from PIL import Image

from ...backend import device_context, device_of
from .image_ops import (
    _FROM_PIL_INT,
    _PIL_RESAMPLE,
    InterpolationMode,
    _array_of,
    _check_image,
    _get_dimensions,
    _is_pil,
    _like,
    _pil_to_tensor,
    _to_pil_image,
    _xp,
)


def _interpolation_mode(interpolation):
    """An ``InterpolationMode`` from itself or Pillow's integer constant, as torchvision accepts both."""
    if isinstance(interpolation, int):
        return _FROM_PIL_INT[interpolation]
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation


def _inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """torchvision's affine matrix (rotation about ``center``, then shear, scale and translation), as the
    six coefficients mapping output pixels to input pixels (``inverted``) or the other way."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    else:
        matrix = [x * scale for x in (a, b, 0.0, c, d, 0.0)]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy) + cx + tx
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy) + cy + ty
    return matrix


def _affine_output_size(matrix, w, h):
    """(width, height) that holds the whole warped image, as Pillow's ``rotate(expand=True)``."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    new_pts = pts @ np.asarray(matrix, dtype=np.float32).reshape(2, 3).T
    half = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    tol = np.float32(1e-4)  # drop float noise so that 5.0000001 does not round up to 6
    cmax = np.ceil(np.trunc((new_pts.max(axis=0) + half) / tol) * tol)
    cmin = np.floor(np.trunc((new_pts.min(axis=0) + half) / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def _pil_fill(fill, img):
    """Pillow's ``fillcolor`` for ``fill``: one value per band, integers unless the image is mode 'F'."""
    num_channels = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def _check_grid_inputs(arr, interpolation, fill):
    if arr.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    num_channels = arr.shape[-3] if arr.ndim >= 3 else 1
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != num_channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f"image ({len(fill)} != {num_channels})")
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")


def _source_coords(xp, ft, matrix, w, h, ow, oh):
    """Input pixel coordinates (x, y) each output pixel samples, computed as torchvision computes them (the
    matrix in the image's float dtype over the half sizes, one matrix product with the output pixels'
    centred coordinates, then back from [-1, 1] to pixels), so that rounding agrees."""
    theta = xp.asarray(np.asarray(matrix, dtype=ft).reshape(2, 3).T / np.array([0.5 * w, 0.5 * h], dtype=ft))
    base = xp.empty((oh, ow, 3), dtype=ft)
    base[..., 0] = xp.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=np.float64).astype(ft)
    base[..., 1] = xp.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=np.float64).astype(ft)[:, None]
    base[..., 2] = 1
    grid = (base.reshape(-1, 3) @ theta).reshape(oh, ow, 2)
    one = ft.type(1)
    return _fma(grid[..., 0] + one, w / 2, -0.5, ft), _fma(grid[..., 1] + one, h / 2, -0.5, ft)


def _fma(a, b, c, ft):
    """``a * b + c`` rounded once, as PyTorch's CPU kernels compute it (their compiler fuses the two
    vector operations): exact in float64 for float32 operands."""
    if ft == np.float32:
        return (a.astype(np.float64) * b + c).astype(ft)
    return a * b + c


def _warp_array(x, matrix, interpolation, fill, ow, oh):
    """``x`` (..., H, W) sampled at ``matrix`` applied to the output pixels (..., oh, ow); outside pixels
    take ``fill`` (per channel when a sequence; zero when None)."""
    xp = _xp(x)
    h, w = x.shape[-2:]
    ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    ix, iy = _source_coords(xp, ft, matrix, w, h, ow, oh)
    src = x.astype(ft, copy=False)
    if interpolation == InterpolationMode.NEAREST:
        jx, jy = xp.rint(ix).astype(np.int64), xp.rint(iy).astype(np.int64)
        mask = ((jx >= 0) & (jx < w) & (jy >= 0) & (jy < h)).astype(ft)
        out = src[..., xp.clip(jy, 0, h - 1), xp.clip(jx, 0, w - 1)] * mask
    else:
        x0, y0 = xp.floor(ix), xp.floor(iy)
        fx, fy = ix - x0, iy - y0
        out = mask = None
        for cy, wy in ((y0, 1 - fy), (y0 + 1, fy)):
            for cx, wx in ((x0, 1 - fx), (x0 + 1, fx)):
                weight = (wy * wx) * ((cx >= 0) & (cx < w) & (cy >= 0) & (cy < h))
                values = src[..., xp.clip(cy, 0, h - 1).astype(np.int64), xp.clip(cx, 0, w - 1).astype(np.int64)]
                # the first corner's product, then fused multiply-adds, in PyTorch's order (nw, ne, sw, se)
                out = values * weight if out is None else _fma(values, weight, out, ft)
                mask = weight if mask is None else mask + weight
    if fill is not None:
        fills = [float(fill)] if isinstance(fill, numbers.Number) else [float(f) for f in fill]
        fill_values = xp.asarray(fills, dtype=ft).reshape((len(fills), 1, 1)) if len(fills) > 1 \
            else ft.type(fills[0])
        if interpolation == InterpolationMode.NEAREST:
            out = xp.where(mask < 0.5, fill_values, out)
        else:
            out = out * mask + (1 - mask) * fill_values
    if x.dtype.kind != "f":
        out = xp.rint(out)
    return out.astype(x.dtype, copy=False)


def _warp_image(img, matrix, interpolation, fill, ow, oh):
    _check_image(img)
    arr = _array_of(img)
    _check_grid_inputs(arr, interpolation, fill)
    with device_context(device_of(arr)):
        return _like(img, _warp_array(arr, matrix, interpolation, fill, ow, oh))


def _rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if _is_pil(img):
        return img.rotate(angle, _PIL_RESAMPLE[interpolation], expand, center, fillcolor=_pil_fill(fill, img))
    _, height, width = _get_dimensions(img)
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = _affine_output_size(matrix, width, height) if expand else (width, height)
    return _warp_image(img, matrix, interpolation, fill, ow, oh)


def _affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, height, width = _get_dimensions(img)
    if _is_pil(img):
        center = [width * 0.5, height * 0.5] if center is None else center
        matrix = _inverse_affine_matrix(center, float(angle), list(translate), scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix, _PIL_RESAMPLE[interpolation],
                             fillcolor=_pil_fill(fill, img))
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    matrix = _inverse_affine_matrix(center_f, float(angle), [1.0 * t for t in translate], scale, shear)
    return _warp_image(img, matrix, interpolation, fill, width, height)


def _gaussian_kernel1d(xp, ft, kernel_size, sigma):
    half = (kernel_size - 1) * 0.5
    x = xp.linspace(-half, half, kernel_size, dtype=np.float64).astype(ft)
    pdf = xp.exp(ft.type(-0.5) * (x / ft.type(sigma)) ** 2)
    return pdf / pdf.sum()


def _blur_array(x, kernel_size, sigma):
    """Separable Gaussian blur of the last two axes with reflect padding (torchvision's kernel and padding;
    the 2-d kernel is the outer product of the two 1-d ones, so two 1-d passes give the same sums)."""
    xp = _xp(x)
    ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    kx, ky = kernel_size
    src = x.astype(ft, copy=False)
    h, w = x.shape[-2:]
    widths = [(0, 0)] * (x.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    padded = xp.pad(src, widths, mode="reflect")
    wx = _gaussian_kernel1d(xp, ft, kx, sigma[0])
    wy = _gaussian_kernel1d(xp, ft, ky, sigma[1])
    rows = sum(padded[..., :, k:k + w] * wx[k] for k in range(kx))
    out = sum(rows[..., k:k + h, :] * wy[k] for k in range(ky))
    if x.dtype.kind != "f":
        out = xp.rint(out)
    return out.astype(x.dtype, copy=False)


def _gaussian_blur(img, kernel_size, sigma=None):
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    _check_image(img)
    if _is_pil(img):
        tensor = _pil_to_tensor(img)
        return _to_pil_image(_like(tensor, _blur_array(tensor._data, kernel_size, sigma)), mode=img.mode)
    arr = _array_of(img)
    with device_context(device_of(arr)):
        return _like(img, _blur_array(arr, kernel_size, sigma))
