"""engine.vision.transforms.functional against torchvision's ``F`` with the same parameters, on uint8 and
float32 tensors, batches and PIL images, and on the fake CuPy device."""

import numpy as np
import pytest
from PIL import Image
from torchvision_reference import torchvision

import engine
from engine.vision.transforms import InterpolationMode as IM
from engine.vision.transforms import functional as F

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def TF():
    torchvision()
    import torchvision.transforms.functional as tf

    return tf


def image(dtype, shape=(3, 13, 17), seed=0):
    a = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return a if dtype == np.uint8 else (a / 255).astype(np.float32)


def as_np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def check(ours, theirs, dtype):
    """uint8 results must be equal. float32 ones within 2e-5: both sum the same float32 products, in an
    order that may differ (the grid and the bilinear weights, the blur's two 1-d passes against one 2-d
    convolution), so they differ in the last bits."""
    o, t = as_np(ours), as_np(theirs)
    assert o.shape == t.shape and o.dtype == t.dtype
    if dtype == np.uint8:
        np.testing.assert_array_equal(o, t)
    else:
        np.testing.assert_allclose(o, t, rtol=0, atol=2e-5)


CASES = [
    ("rotate", lambda m: (30.0, m.NEAREST)),
    ("rotate", lambda m: (90.0, m.NEAREST)),
    ("rotate", lambda m: (-45.5, m.BILINEAR)),
    ("rotate", lambda m: (33.0, m.BILINEAR, True, None, [1.0, 2.0, 3.0])),
    ("rotate", lambda m: (33.0, m.NEAREST, True)),
    ("rotate", lambda m: (12.0, m.BILINEAR, False, [3, 4], [0.5])),
    ("affine", lambda m: (20.0, [2, -3], 1.2, [10.0, 5.0], m.NEAREST, [7.0] * 3)),
    ("affine", lambda m: (-20.0, [1, 4], 0.8, [-10.0, 5.0], m.BILINEAR, [0.25], [2, 3])),
    ("affine", lambda m: (0.0, [0, 0], 1.0, 15.0, m.BILINEAR)),
    ("gaussian_blur", lambda m: ([3, 5], [0.8, 1.3])),
    ("gaussian_blur", lambda m: (5,)),
    ("adjust_sharpness", lambda m: (1.7,)),
    ("adjust_sharpness", lambda m: (0.3,)),
    ("autocontrast", lambda m: ()),
    ("invert", lambda m: ()),
    ("adjust_gamma", lambda m: (0.7, 1.1)),
    ("adjust_brightness", lambda m: (1.3,)),
    ("adjust_contrast", lambda m: (0.6,)),
    ("adjust_saturation", lambda m: (1.4,)),
    ("adjust_hue", lambda m: (0.2,)),
    ("adjust_hue", lambda m: (-0.45,)),
    ("hflip", lambda m: ()),
    ("crop", lambda m: (2, 3, 8, 9)),
    ("center_crop", lambda m: ([8, 20],)),
    ("pad", lambda m: ([1, 2, 3, 4], 0, "reflect")),
]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize(("name", "args"), CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(CASES)])
def test_tensor_ops_match_torchvision(TF, name, args, dtype, batch):
    a = image(dtype, (2, 3, 13, 17) if batch else (3, 13, 17))
    if name == "gaussian_blur" and batch and dtype == np.uint8:
        a = a[0]  # torchvision's blur takes at most one leading dimension
    ours = getattr(F, name)(engine.tensor(a), *args(IM))
    check(ours, getattr(TF, name)(torch.tensor(a), *args(TF.InterpolationMode)), dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_solarize_posterize_equalize_match_torchvision(TF, dtype):
    a = image(dtype, (2, 3, 9, 11))
    threshold = 128 if dtype == np.uint8 else 0.5
    check(F.solarize(engine.tensor(a), threshold), TF.solarize(torch.tensor(a), threshold), dtype)
    if dtype == np.uint8:
        for bits in (0, 3, 8):
            check(F.posterize(engine.tensor(a), bits), TF.posterize(torch.tensor(a), bits), dtype)
        check(F.equalize(engine.tensor(a)), TF.equalize(torch.tensor(a)), dtype)
        flat = np.full((3, 4, 4), 7, np.uint8)  # one value: the step is zero, the channel is kept
        check(F.equalize(engine.tensor(flat)), TF.equalize(torch.tensor(flat)), dtype)
    else:
        with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported, but found torch.float32"):
            F.posterize(engine.tensor(a), 3)
        with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
            F.solarize(engine.tensor(a), 2.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("mode", ["BILINEAR", "BICUBIC", "NEAREST", "NEAREST_EXACT"])
def test_resize_and_resized_crop_match_torchvision(TF, dtype, antialias, mode):
    """Tensors take torchvision's tensor path (interpolate in float32, rounded back for uint8). Plain bilinear
    upsampling of uint8 may differ by 1 where the float32 value sits at a half: the engine's interpolate
    adds the two lerps in another order than PyTorch's kernel (a few pixels in a thousand)."""
    a = image(dtype, (2, 3, 13, 17))
    for size in ([5, 6], [20, 9], 7):
        ours = F.resize(engine.tensor(a), size, getattr(IM, mode), antialias=antialias)
        theirs = TF.resize(torch.tensor(a), size, getattr(TF.InterpolationMode, mode), antialias=antialias)
        if dtype == np.uint8 and mode == "BILINEAR" and not antialias:
            diff = np.abs(as_np(ours).astype(int) - as_np(theirs))
            assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        else:
            check(ours, theirs, dtype)
    ours = F.resized_crop(engine.tensor(a[0]), 2, 3, 8, 9, [5, 6], getattr(IM, mode), antialias=antialias)
    theirs = TF.resized_crop(torch.tensor(a[0]), 2, 3, 8, 9, [5, 6], getattr(TF.InterpolationMode, mode),
                             antialias=antialias)
    check(ours, theirs, dtype)
    p = Image.fromarray(image(np.uint8).transpose(1, 2, 0))
    theirs = TF.resized_crop(p, 1, 2, 9, 10, [7, 5], getattr(TF.InterpolationMode, mode))
    np.testing.assert_array_equal(np.asarray(F.resized_crop(p, 1, 2, 9, 10, [7, 5], getattr(IM, mode))),
                                  np.asarray(theirs))


def test_resize_errors(TF):
    x = engine.tensor(image(np.uint8))
    with pytest.raises(ValueError, match="Interpolation mode 'lanczos' is unsupported with Tensor input"):
        F.resize(x, [4, 4], IM.LANCZOS)
    assert F.resize(x, [13, 17]) is x


@pytest.mark.parametrize(("src", "dst"), [("uint8", "float32"), ("float32", "uint8"), ("uint8", "int32"),
                                          ("int32", "uint8"), ("float32", "float64"), ("int16", "float32")])
def test_convert_image_dtype(TF, src, dst):
    a = image(np.uint8) if src == "uint8" else image(np.float32) if src == "float32" else \
        (image(np.uint8).astype(src) * 100)
    ours = F.convert_image_dtype(engine.tensor(a), getattr(engine, dst))
    theirs = TF.convert_image_dtype(torch.tensor(a), getattr(torch, dst))
    np.testing.assert_array_equal(as_np(ours), as_np(theirs))
    assert ours.dtype is getattr(engine, dst)
    with pytest.raises(RuntimeError, match="The cast from torch.float32 to torch.int64 cannot be performed safely."):
        F.convert_image_dtype(engine.tensor(image(np.float32)), engine.int64)


PIL_CASES = [
    ("rotate", lambda m: (30.0,)),
    ("rotate", lambda m: (30.0, m.BILINEAR, True, None, (1, 2, 3))),
    ("rotate", lambda m: (-70.0, m.BICUBIC, False, [2, 5], 9)),
    ("affine", lambda m: (20.0, [2, -3], 1.2, [10.0, 5.0])),
    ("affine", lambda m: (-5.0, [1, 1], 0.9, 8.0, m.BILINEAR, [4], [3, 3])),
    ("gaussian_blur", lambda m: ([3, 5], [0.8, 1.3])),
    ("adjust_sharpness", lambda m: (1.7,)),
    ("equalize", lambda m: ()),
    ("posterize", lambda m: (3,)),
    ("solarize", lambda m: (100,)),
    ("autocontrast", lambda m: ()),
    ("invert", lambda m: ()),
    ("adjust_gamma", lambda m: (0.7,)),
    ("to_grayscale", lambda m: (3,)),
]


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize(("name", "args"), PIL_CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(PIL_CASES)])
def test_pil_ops_match_torchvision(TF, name, args, mode):
    p = Image.fromarray(image(np.uint8).transpose(1, 2, 0)).convert(mode)
    if mode == "L" and any(isinstance(a, tuple) for a in args(IM)):
        pytest.skip("a three-value fill is for RGB images")
    ours, theirs = getattr(F, name)(p, *args(IM)), getattr(TF, name)(p, *args(TF.InterpolationMode))
    assert isinstance(ours, Image.Image) and ours.mode == theirs.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_errors_match_torchvision(TF):
    x = engine.tensor(image(np.uint8))
    cases = [
        (lambda f: f.rotate(x, "30"), TypeError, "Argument angle should be int or float"),
        (lambda f: f.rotate(x, 30.0, "bilinear"), TypeError, "Argument interpolation should be a InterpolationMode"),
        (lambda f: f.rotate(x, 30.0, IM.BICUBIC), ValueError, "Interpolation mode 'bicubic' is unsupported"),
        (lambda f: f.rotate(x, 30.0, fill=[1.0, 2.0]), ValueError, "The number of elements in 'fill' cannot broadcast"),
        (lambda f: f.affine(x, 0.0, [1], 1.0, 0.0), ValueError, "Argument translate should be a sequence of length 2"),
        (lambda f: f.affine(x, 0.0, [1, 1], 0.0, 0.0), ValueError, "Argument scale should be positive"),
        (lambda f: f.affine(x, 0.0, [1, 1], 1.0, [1, 2, 3]), ValueError, "Shear should be a sequence containing two"),
        (lambda f: f.gaussian_blur(x, 4), ValueError, "kernel_size should have odd and positive integers. Got"),
        (lambda f: f.gaussian_blur(x, 3, -1.0), ValueError, "sigma should have positive values. Got"),
        (lambda f: f.gaussian_blur(x, [3, 3, 3]), ValueError, "If kernel_size is a sequence its length should be 2"),
        (lambda f: f.adjust_sharpness(x, -1.0), ValueError, r"sharpness_factor \(-1.0\) is not non-negative."),
        (lambda f: f.adjust_brightness(x, -1.0), ValueError, r"brightness_factor \(-1.0\) is not non-negative."),
        (lambda f: f.adjust_hue(x, 0.7), ValueError, r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."),
        (lambda f: f.posterize(x, 9), ValueError, "The number if bits should be between 0 and 8. Got 9"),
        (lambda f: f.adjust_gamma(x, -1.0), ValueError, "Gamma should be a non-negative real number"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call(F)
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.erase(Image.new("RGB", (4, 4)), 0, 0, 1, 1, 0)
    with pytest.raises(TypeError, match="Input should be PIL Image"):
        F.to_grayscale(x)


def test_erase_and_sizes(TF):
    a = image(np.float32)
    v = np.arange(3, dtype=np.float32)[:, None, None]
    ours = F.erase(engine.tensor(a), 2, 3, 4, 5, engine.tensor(v))
    np.testing.assert_array_equal(as_np(ours), as_np(TF.erase(torch.tensor(a), 2, 3, 4, 5, torch.tensor(v))))
    x = engine.tensor(a)
    assert F.erase(x, 0, 0, 2, 2, 0.0, inplace=True) is x and float(x[0, 0, 0]) == 0.0
    assert F.get_dimensions(x) == [3, 13, 17] and F.get_image_size(x) == [17, 13]
    assert F.get_image_num_channels(Image.new("RGBA", (3, 2))) == 4


def test_float64_and_fake_device_keep_dtype_and_device(fake_cuda):
    a = image(np.float32).astype(np.float64)
    x = engine.tensor(a)
    xc = x.to("cuda:1")
    for call in (lambda t: F.rotate(t, 20.0, IM.BILINEAR), lambda t: F.affine(t, 5.0, [1, 2], 1.1, 3.0),
                 lambda t: F.gaussian_blur(t, 3, 1.0), lambda t: F.adjust_sharpness(t, 2.0),
                 lambda t: F.autocontrast(t), lambda t: F.invert(t), lambda t: F.erase(t, 1, 1, 2, 2, 0.5)):
        cpu, gpu = call(x), call(xc)
        assert cpu.dtype is engine.float64 and gpu.device == engine.device("cuda:1")
        np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), rtol=1e-12)
    u = engine.tensor(image(np.uint8)).to("cuda:1")
    assert F.equalize(u).device == engine.device("cuda:1")
    np.testing.assert_array_equal(F.equalize(u).cpu().numpy(), F.equalize(u.cpu()).numpy())
