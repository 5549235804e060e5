"""engine.vision.transforms against straightforward NumPy/Pillow computations, and their batched forms."""

import numpy as np
import pytest
from PIL import Image

import engine
from engine.vision import transforms as T


def rgb(h=10, w=14, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def pil(arr):
    return Image.fromarray(arr)


def chw(t):
    return t.numpy() if isinstance(t, engine.Tensor) else np.asarray(t)


# ----- conversions -----

def test_to_tensor_pil_and_ndarray():
    a = rgb()
    for src in (pil(a), a):
        t = T.ToTensor()(src)
        assert isinstance(t, engine.Tensor) and t.dtype is engine.float32 and t.shape == (3, 10, 14)
        np.testing.assert_array_equal(t.numpy(), a.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    gray = a[:, :, 0]
    t = T.ToTensor()(pil(gray))
    assert t.shape == (1, 10, 14)
    np.testing.assert_array_equal(t.numpy()[0], gray / np.float32(255))
    assert T.ToTensor()(gray).shape == (1, 10, 14)
    # non-uint8 data keeps its dtype and values, as torchvision
    f = np.random.default_rng(1).random((4, 5, 2)).astype(np.float64)
    t = T.ToTensor()(f)
    assert t.dtype is engine.float64 and t.shape == (2, 4, 5)
    np.testing.assert_array_equal(t.numpy(), f.transpose(2, 0, 1))
    fimg = Image.fromarray(f[:, :, 0].astype(np.float32), mode="F")
    t = T.ToTensor()(fimg)
    assert t.dtype is engine.float32
    np.testing.assert_array_equal(t.numpy()[0], f[:, :, 0].astype(np.float32))
    iimg = Image.fromarray(gray.astype(np.int32) * 1000)
    assert T.ToTensor()(iimg).dtype is engine.int32
    bw = pil(gray).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(bw).numpy()[0], np.asarray(bw, np.float32))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(engine.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_to_tensor_follows_default_dtype():
    engine.set_default_dtype(engine.float64)
    try:
        assert T.ToTensor()(rgb()).dtype is engine.float64
    finally:
        engine.set_default_dtype(engine.float32)


def test_pil_to_tensor_and_back():
    a = rgb()
    t = T.PILToTensor()(pil(a))
    assert t.dtype is engine.uint8 and t.shape == (3, 10, 14)
    np.testing.assert_array_equal(t.numpy(), a.transpose(2, 0, 1))
    back = T.ToPILImage()(t)
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), a)
    back = T.ToPILImage()(T.ToTensor()(pil(a)))
    np.testing.assert_array_equal(np.asarray(back), a)  # x / 255 * 255 truncates back exactly
    assert T.ToPILImage()(a).mode == "RGB"
    assert T.ToPILImage()(a[:, :, 0]).mode == "L"
    assert T.ToPILImage()(engine.zeros(1, 4, 4)).mode == "L"
    assert T.ToPILImage()(engine.zeros(4, 4, 4)).mode == "RGBA"
    assert T.ToPILImage()(engine.zeros(1, 4, 4), ).size == (4, 4)
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(a)


# ----- Normalize -----

def test_normalize():
    x = engine.rand(3, 5, 6)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.3, 0.4)
    out = T.Normalize(mean, std)(x)
    ref = (x.numpy() - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_array_equal(out.numpy(), ref)
    assert out.dtype is engine.float32
    before = x.numpy().copy()
    T.Normalize(mean, std)(x)
    np.testing.assert_array_equal(x.numpy(), before)  # not in place by default
    same = T.Normalize(mean, std, inplace=True)(x)
    assert same is x
    np.testing.assert_array_equal(x.numpy(), ref)
    batch = engine.rand(2, 3, 4, 4)
    out = T.Normalize(mean, std)(batch)
    np.testing.assert_allclose(out.numpy()[1], T.Normalize(mean, std)(batch[1]).numpy())
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize(mean, std)(engine.zeros(3, 2, 2, dtype=engine.uint8))
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        T.Normalize(mean, std)(engine.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(mean, (1.0, 0.0, 1.0))(x)
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize(mean, std)(pil(rgb()))


def test_normalize_keeps_grad():
    x = engine.rand(3, 2, 2, requires_grad=True)
    T.Normalize((0.5, 0.5, 0.5), (2.0, 2.0, 2.0))(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 2, 2), 0.5, np.float32))


# ----- geometry -----

@pytest.mark.parametrize("size,expected", [(6, (6, 6)), ((4, 8), (4, 8)), ([5], (5, 5))])
def test_center_crop_matches_slicing(size, expected):
    a = rgb(10, 14)
    th, tw = expected
    top, left = round((10 - th) / 2), round((14 - tw) / 2)
    ref = a[top:top + th, left:left + tw]
    out = T.CenterCrop(size)(pil(a))
    assert isinstance(out, Image.Image)
    np.testing.assert_array_equal(np.asarray(out), ref)
    t = T.CenterCrop(size)(engine.tensor(a.transpose(2, 0, 1)))
    np.testing.assert_array_equal(t.numpy(), ref.transpose(2, 0, 1))
    np.testing.assert_array_equal(T.CenterCrop(size)(a.transpose(2, 0, 1)), ref.transpose(2, 0, 1))


def test_center_crop_larger_than_image_pads_with_zeros():
    a = rgb(4, 5)
    out = np.asarray(T.CenterCrop((7, 8))(pil(a)))
    ref = np.zeros((7, 8, 3), np.uint8)
    ref[1:5, 1:6] = a  # padding (left, top, right, bottom) = (1, 1, 2, 2)
    np.testing.assert_array_equal(out, ref)
    t = T.CenterCrop((7, 8))(engine.tensor(a.transpose(2, 0, 1)))
    np.testing.assert_array_equal(t.numpy(), ref.transpose(2, 0, 1))


@pytest.mark.parametrize("size", [7, (6, 9), [12]])
@pytest.mark.parametrize("interp", [T.InterpolationMode.BILINEAR, T.InterpolationMode.NEAREST,
                                    T.InterpolationMode.BICUBIC])
def test_resize_matches_pillow(size, interp):
    a = rgb(10, 14)
    if isinstance(size, (int, list)):
        short = size if isinstance(size, int) else size[0]
        out_hw = (short, int(short * 14 / 10))  # the smaller edge (height) matches size
    else:
        out_hw = size
    resample = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC}[interp.value]
    ref = np.asarray(pil(a).resize((out_hw[1], out_hw[0]), resample))
    out = T.Resize(size, interpolation=interp)(pil(a))
    np.testing.assert_array_equal(np.asarray(out), ref)
    t = T.Resize(size, interpolation=interp)(engine.tensor(a.transpose(2, 0, 1)))
    assert t.dtype is engine.uint8 and t.shape == (3, *out_hw)
    np.testing.assert_array_equal(t.numpy(), ref.transpose(2, 0, 1))
    f = T.Resize(size, interpolation=interp)(T.ToTensor()(a))
    assert f.dtype is engine.float32 and f.shape == (3, *out_hw)
    if interp is T.InterpolationMode.BICUBIC:  # Pillow clips 8-bit data between its two passes; floats overshoot
        assert np.abs(f.numpy() * 255 - ref.transpose(2, 0, 1)).mean() < 1.0
    else:
        np.testing.assert_allclose(f.numpy() * 255, ref.transpose(2, 0, 1), atol=1.0)


def test_resize_details():
    a = rgb(10, 14)
    assert T.Resize(10)(pil(a)).size == (14, 10)  # already the right size
    assert T.Resize(5, max_size=6)(pil(a)).size == (6, 4)
    assert T.Resize(20)(pil(a.transpose(1, 0, 2))).size == (20, 28)
    assert T.Resize(8, interpolation=0).interpolation is T.InterpolationMode.NEAREST
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))


def test_grayscale_matches_pillow_and_formula():
    a = rgb()
    out = T.Grayscale()(pil(a))
    assert out.mode == "L"
    r, g, b = (a[..., c].astype(np.uint32) for c in range(3))
    ref = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
    np.testing.assert_array_equal(np.asarray(out), ref.astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(pil(a).convert("L")))
    out3 = T.Grayscale(3)(pil(a))
    assert out3.mode == "RGB" and all(np.array_equal(np.asarray(out3)[..., c], ref) for c in range(3))
    x = T.ToTensor()(a)
    g = T.Grayscale()(x)
    r, gch, b = x.numpy()
    expected = np.float32(0.2989) * r + np.float32(0.587) * gch + np.float32(0.114) * b
    assert g.shape == (1, 10, 14)
    np.testing.assert_allclose(g.numpy()[0], expected, rtol=1e-6)
    assert T.Grayscale(3)(x).shape == (3, 10, 14)
    u = T.Grayscale()(engine.tensor(a.transpose(2, 0, 1)))
    assert u.dtype is engine.uint8
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\], but found 2"):
        T.Grayscale()(engine.zeros(2, 3, 3))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy(mode):
    a = rgb(5, 6)
    widths = ((2, 4), (1, 3), (0, 0))  # padding = (left, top, right, bottom) = (1, 2, 3, 4)
    ref = np.pad(a, widths, mode=mode) if mode != "constant" else np.pad(a, widths, constant_values=9)
    out = T.Pad((1, 2, 3, 4), fill=9, padding_mode=mode)(pil(a))
    np.testing.assert_array_equal(np.asarray(out), ref)
    t = T.Pad((1, 2, 3, 4), fill=9, padding_mode=mode)(engine.tensor(a.transpose(2, 0, 1)))
    np.testing.assert_array_equal(t.numpy(), ref.transpose(2, 0, 1))
    two = np.asarray(T.Pad((2, 1), padding_mode=mode)(pil(a)))  # left/right 2, top/bottom 1
    assert two.shape == (7, 10, 3)
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3"):
        T.Pad((1, 2, 3))


def test_pad_rgb_fill_tuple():
    out = np.asarray(T.Pad(1, fill=(10, 20, 30))(pil(rgb(3, 3))))
    assert out[0, 0].tolist() == [10, 20, 30]


def is_window(crop, padded):
    """Whether ``crop`` (H, W, ...) is some window of ``padded``."""
    h, w = crop.shape[:2]
    return any(np.array_equal(crop, padded[i:i + h, j:j + w])
               for i in range(padded.shape[0] - h + 1) for j in range(padded.shape[1] - w + 1))


def test_random_crop_windows_shapes_and_reproducibility():
    a = rgb(8, 9)
    padded = np.pad(a, ((3, 3), (3, 3), (0, 0)))
    crop = T.RandomCrop(8, padding=3)
    engine.manual_seed(0)
    outs = [np.asarray(crop(pil(a))) for _ in range(30)]
    assert all(o.shape == (8, 8, 3) and is_window(o, padded) for o in outs)
    assert len({o.tobytes() for o in outs}) > 5
    engine.manual_seed(0)
    again = [np.asarray(crop(pil(a))) for _ in range(30)]
    assert all(np.array_equal(x, y) for x, y in zip(outs, again))
    t = crop(engine.tensor(a.transpose(2, 0, 1)))
    assert t.shape == (3, 8, 8) and is_window(t.numpy().transpose(1, 2, 0), padded)
    n = crop(a.transpose(2, 0, 1))
    assert isinstance(n, np.ndarray) and is_window(n.transpose(1, 2, 0), padded)
    assert T.RandomCrop((8, 9))(pil(a)).size == (9, 8)  # the whole image, no draw
    big = T.RandomCrop(12, pad_if_needed=True)(pil(a))
    assert big.size == (12, 12)
    with pytest.raises(ValueError, match="Required crop size \\(10, 10\\) is larger than input image size"):
        T.RandomCrop(10)(pil(a))
    with pytest.raises(ValueError, match="Please provide only two dimensions \\(h, w\\) for size"):
        T.RandomCrop((1, 2, 3))


def test_random_crop_reflect_padding():
    a = rgb(6, 6)
    padded = np.pad(a, ((2, 2), (2, 2), (0, 0)), mode="reflect")
    for _ in range(10):
        assert is_window(np.asarray(T.RandomCrop(6, padding=2, padding_mode="reflect")(pil(a))), padded)


@pytest.mark.parametrize("cls,axis", [(T.RandomHorizontalFlip, 1), (T.RandomVerticalFlip, 0)])
def test_random_flips(cls, axis):
    a = rgb()
    assert np.array_equal(np.asarray(cls(p=1.0)(pil(a))), np.flip(a, axis))
    assert np.array_equal(np.asarray(cls(p=0.0)(pil(a))), a)
    t = engine.tensor(a.transpose(2, 0, 1))
    np.testing.assert_array_equal(cls(p=1.0)(t).numpy(), np.flip(a, axis).transpose(2, 0, 1))
    np.testing.assert_array_equal(cls(p=1.0)(a.transpose(2, 0, 1)), np.flip(a, axis).transpose(2, 0, 1))
    engine.manual_seed(0)
    flips = sum(not np.array_equal(np.asarray(cls()(pil(a))), a) for _ in range(400))
    assert 160 < flips < 240
    engine.manual_seed(5)
    first = [cls()(t).numpy().tobytes() for _ in range(20)]
    engine.manual_seed(5)
    assert first == [cls()(t).numpy().tobytes() for _ in range(20)]


def test_lambda_compose_and_reprs():
    assert T.Lambda(lambda x: x + 1)(1) == 2
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    c = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                   T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    assert repr(c) == (
        "Compose(\n"
        "    RandomCrop(size=(32, 32), padding=4)\n"
        "    RandomHorizontalFlip(p=0.5)\n"
        "    ToTensor()\n"
        "    Normalize(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))\n"
        ")"
    )
    assert repr(T.Resize(32)) == "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(8)) == "CenterCrop(size=(8, 8))"
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.PILToTensor()) == "PILToTensor()"
    assert repr(T.ToPILImage()) == "ToPILImage()"
    assert repr(T.RandomVerticalFlip(0.3)) == "RandomVerticalFlip(p=0.3)"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.ColorJitter(0.2, hue=0.1)) == \
        "ColorJitter(brightness=(0.8, 1.2), contrast=None, saturation=None, hue=(-0.1, 0.1))"
    assert isinstance(T.RandomCrop(3), engine.nn.Module) and not isinstance(T.ToTensor(), engine.nn.Module)


def test_color_jitter():
    a = rgb()
    assert np.array_equal(np.asarray(T.ColorJitter()(pil(a))), a)
    engine.manual_seed(0)
    out = T.ColorJitter(0.5, 0.5, 0.5, 0.2)(pil(a))
    assert out.size == (14, 10) and out.mode == "RGB"
    engine.manual_seed(0)
    assert np.array_equal(np.asarray(T.ColorJitter(0.5, 0.5, 0.5, 0.2)(pil(a))), np.asarray(out))
    x = T.ToTensor()(a)
    y = T.ColorJitter(brightness=(0.5, 0.5))(x)
    np.testing.assert_allclose(y.numpy(), np.clip(x.numpy() * 0.5, 0, 1), rtol=1e-6)
    y = T.ColorJitter(hue=(0.0, 0.0))(x)  # a hue shift of zero goes to HSV and back
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-5)
    y = T.ColorJitter(0.3, 0.3, 0.3, 0.1)(x)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)


# ----- batched forms -----

def per_image_reference(transform, batch_nhwc):
    """The transform applied image by image to PIL images, stacked."""
    return np.stack([np.asarray(chw(transform(pil(img.squeeze(-1) if img.shape[-1] == 1 else img))))
                     for img in batch_nhwc])


@pytest.mark.parametrize("make", [
    lambda: T.Compose([T.ToTensor(), T.Normalize((0.1, 0.2, 0.3), (0.3, 0.2, 0.1))]),
    lambda: T.Compose([T.CenterCrop(6), T.PILToTensor()]),
    lambda: T.Compose([T.CenterCrop((13, 15)), T.ToTensor()]),
    lambda: T.Compose([T.Pad(2, padding_mode="symmetric"), T.Grayscale(), T.ToTensor()]),
    lambda: T.Compose([T.Grayscale(3), T.ToTensor(), T.Grayscale()]),
    lambda: T.Compose([T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0), T.ToTensor(), T.CenterCrop(5),
                       T.RandomHorizontalFlip(1.0)]),
    lambda: T.Compose([T.ToTensor(), T.Pad((1, 0, 2, 3), fill=0.5), T.RandomVerticalFlip(0.0)]),
    lambda: T.Compose([T.PILToTensor(), T.RandomCrop(12)]),
])
def test_batched_forms_equal_per_image_for_deterministic_transforms(make):
    batch = np.random.default_rng(3).integers(0, 256, (6, 12, 12, 3), dtype=np.uint8)
    transform = make()
    assert T.is_batchable(transform)
    out, channels_last = T.apply_batch(transform, batch.copy(), np.random.default_rng(0), return_layout=True)
    assert channels_last is False
    ref = per_image_reference(transform, batch)
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)


def test_batched_random_crop_and_flip():
    batch = np.random.default_rng(3).integers(0, 256, (64, 8, 8, 3), dtype=np.uint8)
    out = T.RandomCrop(8, padding=2).apply_batch(batch.copy(), np.random.default_rng(0), channels_last=True)
    assert out.shape == (64, 8, 8, 3)
    for img, src in zip(out, batch):
        assert is_window(img, np.pad(src, ((2, 2), (2, 2), (0, 0))))
    assert len({(img == 0).all(axis=-1).sum() for img in out}) > 5  # different offsets per image
    nchw = batch.transpose(0, 3, 1, 2).copy()
    out = T.RandomCrop((5, 6)).apply_batch(nchw.copy(), np.random.default_rng(0))
    assert out.shape == (64, 3, 5, 6)
    for img, src in zip(out, nchw):
        assert is_window(img.transpose(1, 2, 0), src.transpose(1, 2, 0))
    flipped = T.RandomHorizontalFlip().apply_batch(nchw.copy(), np.random.default_rng(1))
    mask = np.array([not np.array_equal(f, s) for f, s in zip(flipped, nchw)])
    assert all(np.array_equal(f, s[..., ::-1]) for f, s, m in zip(flipped, nchw, mask) if m)
    assert 16 < mask.sum() < 48
    assert mask.tolist() == (np.random.default_rng(1).random(64) < 0.5).tolist()
    grey = batch[..., :1]
    out = T.RandomVerticalFlip(1.0).apply_batch(grey.copy(), np.random.default_rng(1), channels_last=True)
    np.testing.assert_array_equal(out, grey[:, ::-1])


def test_batched_pipeline_reproducible_with_the_engine_seed():
    batch = np.random.default_rng(3).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    t = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])
    engine.manual_seed(4)
    a = T.apply_batch(t, batch.copy())
    engine.manual_seed(4)
    b = T.apply_batch(t, batch.copy())
    np.testing.assert_array_equal(a, b)
    assert a.shape == (16, 3, 8, 8) and a.dtype == np.float32


def test_not_batchable():
    assert not T.is_batchable(T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]))
    assert not T.is_batchable(T.Resize(4))
    with pytest.raises(NotImplementedError):
        T.apply_batch(T.Resize(4), np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor().apply_batch(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize((0.5,), (0.5,)).apply_batch(np.zeros((2, 4, 4, 1), np.float32), channels_last=True)


def test_tensor_transforms_stay_on_the_device(fake_cuda):
    a = rgb(8, 10)
    x = T.ToTensor()(a)
    xc = x.to("cuda:1")
    cases = [
        T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4)),
        T.CenterCrop(6),
        T.CenterCrop(12),
        T.Pad((1, 2, 3, 4), padding_mode="reflect"),
        T.Grayscale(3),
        T.Resize(5),
        T.RandomHorizontalFlip(1.0),
        T.RandomVerticalFlip(1.0),
        T.ColorJitter(brightness=(0.5, 0.5)),
    ]
    for t in cases:
        out = t(xc)
        assert out.device == engine.device("cuda:1"), t
        np.testing.assert_allclose(out.cpu().numpy(), t(x).numpy(), rtol=1e-6, err_msg=repr(t))
    engine.manual_seed(0)
    cpu = T.RandomCrop(8, padding=2)(x)
    engine.manual_seed(0)
    gpu = T.RandomCrop(8, padding=2)(xc)
    assert gpu.device == engine.device("cuda:1")
    np.testing.assert_array_equal(gpu.cpu().numpy(), cpu.numpy())
