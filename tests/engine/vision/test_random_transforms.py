"""The random transforms against torchvision: repr and argument errors, the distribution of their parameters
(``get_params`` over many draws, bounds and means), and the image a transform gives for the parameters it drew
(recomputed through torchvision's functional ops with the same parameters)."""

import warnings

import numpy as np
import pytest
from PIL import Image
from torchvision_reference import torchvision

import engine
from engine.vision import transforms as T
from engine.vision.transforms import functional as F
from engine.vision.transforms import v2

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def TV():
    torchvision()
    import torchvision.transforms as tt

    return tt


def image(dtype=np.uint8, shape=(3, 20, 24), seed=0):
    a = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return a if dtype == np.uint8 else (a / 255).astype(np.float32)


def as_np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def both(TV, build):
    """The transform built from the engine's module and from torchvision's."""
    return build(T), build(TV)


REPRS = [
    lambda m: m.RandomResizedCrop(32),
    lambda m: m.RandomResizedCrop((16, 20), scale=(0.5, 0.9), ratio=(0.5, 2.0),
                                  interpolation=m.InterpolationMode.NEAREST, antialias=False),
    lambda m: m.RandomRotation(30),
    lambda m: m.RandomRotation((10, 20), expand=True, center=(1, 2), fill=3),
    lambda m: m.RandomAffine(10),
    lambda m: m.RandomAffine(10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5, fill=1, center=(1, 1)),
    lambda m: m.RandomAffine((-5, 5), shear=(1, 2, 3, 4), interpolation=m.InterpolationMode.BILINEAR),
    lambda m: m.RandomGrayscale(),
    lambda m: m.GaussianBlur(3),
    lambda m: m.GaussianBlur((3, 5), (0.5, 1.0)),
    lambda m: m.GaussianBlur(5, 2.0),
    lambda m: m.RandomErasing(),
    lambda m: m.RandomErasing(p=1.0, value="random", inplace=True),
    lambda m: m.RandomErasing(value=(1, 2, 3)),
    lambda m: m.ColorJitter(0.1, 0.2, 0.3, 0.1),
    lambda m: m.RandomApply([m.RandomGrayscale(), m.RandomRotation(3)], p=0.3),
    lambda m: m.RandomChoice([m.RandomGrayscale()]),
    lambda m: m.RandomChoice([m.RandomGrayscale(), m.GaussianBlur(3)], p=[0.2, 0.8]),
    lambda m: m.RandomOrder([m.RandomGrayscale(), m.GaussianBlur(3)]),
]


@pytest.mark.parametrize("build", REPRS)
def test_repr_matches_torchvision(TV, build):
    ours, theirs = both(TV, build)
    assert repr(ours) == repr(theirs)


ERRORS = [
    lambda m: m.RandomRotation(-1),
    lambda m: m.RandomRotation([1, 2, 3]),
    lambda m: m.RandomRotation("a"),
    lambda m: m.RandomRotation(10, center=(1,)),
    lambda m: m.RandomRotation(10, fill={}),
    lambda m: m.RandomAffine(10, translate=(0.1, 1.5)),
    lambda m: m.RandomAffine(10, translate=0.1),
    lambda m: m.RandomAffine(10, scale=(0.0, 1.0)),
    lambda m: m.RandomAffine(10, shear=(1, 2, 3)),
    lambda m: m.RandomResizedCrop(10, scale=0.5),
    lambda m: m.RandomResizedCrop(10, ratio=2),
    lambda m: m.RandomResizedCrop((1, 2, 3)),
    lambda m: m.GaussianBlur(4),
    lambda m: m.GaussianBlur(3, -1.0),
    lambda m: m.GaussianBlur(3, (2.0, 1.0)),
    lambda m: m.GaussianBlur(3, (1.0, 2.0, 3.0)),
    lambda m: m.RandomErasing(value="x"),
    lambda m: m.RandomErasing(value=None),
    lambda m: m.RandomErasing(scale=(0.1, 1.5)),
    lambda m: m.RandomErasing(p=1.5),
    lambda m: m.RandomErasing(scale=0.5),
    lambda m: m.RandomChoice(m.RandomGrayscale()),
    lambda m: m.RandomChoice([m.RandomGrayscale()], p=0.5),
]


@pytest.mark.parametrize("build", ERRORS)
def test_argument_errors_match_torchvision(TV, build):
    with pytest.raises(Exception) as theirs:
        build(TV)
    with pytest.raises(type(theirs.value)) as ours:
        build(T)
    assert str(ours.value) == str(theirs.value)


def test_min_max_warning(TV):
    for m in (T, TV):
        with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
            m.RandomResizedCrop(8, scale=(0.9, 0.1))


def test_random_resized_crop_params_distribution(TV):
    """Bounds of every draw, and means and quantiles of height and width over 4000 draws within 4% of
    torchvision's (the standard error of a mean of 4000 draws is about 1%)."""
    img = engine.zeros(3, 40, 60)
    scale, ratio = (0.08, 1.0), (3 / 4, 4 / 3)
    engine.manual_seed(0)
    ours = np.array([T.RandomResizedCrop.get_params(img, scale, ratio) for _ in range(4000)])
    torch.manual_seed(0)
    theirs = np.array([TV.RandomResizedCrop.get_params(torch.zeros(3, 40, 60), scale, ratio) for _ in range(4000)])
    i, j, h, w = ours.T
    assert (i >= 0).all() and (j >= 0).all() and (i + h <= 40).all() and (j + w <= 60).all()
    assert (h > 0).all() and (w > 0).all()
    for k in (2, 3):
        np.testing.assert_allclose(ours[:, k].mean(), theirs[:, k].mean(), rtol=0.04)
        np.testing.assert_allclose(np.quantile(ours[:, k], [0.25, 0.5, 0.75]),
                                   np.quantile(theirs[:, k], [0.25, 0.5, 0.75]), rtol=0.08)
    # the fallback: no window of ratio (3, 4) fits a wide image; the centred crop clipped to the ratio
    assert T.RandomResizedCrop.get_params(engine.zeros(3, 10, 100), (0.9, 1.0), (3.0, 4.0)) == \
        TV.RandomResizedCrop.get_params(torch.zeros(3, 10, 100), (0.9, 1.0), (3.0, 4.0))
    assert T.RandomResizedCrop.get_params(engine.zeros(3, 100, 10), (0.9, 1.0), (3.0, 4.0)) == \
        TV.RandomResizedCrop.get_params(torch.zeros(3, 100, 10), (0.9, 1.0), (3.0, 4.0))


def test_random_affine_params_distribution(TV):
    engine.manual_seed(1)
    draws = [T.RandomAffine.get_params([-10.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-5.0, 5.0, 1.0, 3.0], [50, 30])
             for _ in range(3000)]
    angle = np.array([d[0] for d in draws])
    tx, ty = np.array([d[1] for d in draws]).T
    scale = np.array([d[2] for d in draws])
    sx, sy = np.array([d[3] for d in draws]).T
    assert angle.min() >= -10 and angle.max() <= 20 and abs(angle.mean() - 5) < 0.5
    assert set(tx) <= set(range(-5, 6)) and set(ty) <= set(range(-6, 7)) and abs(tx.mean()) < 0.2
    assert all(isinstance(v, int) for v in draws[0][1])
    assert scale.min() >= 0.8 and scale.max() <= 1.2 and abs(scale.mean() - 1.0) < 0.01
    assert sx.min() >= -5 and sx.max() <= 5 and sy.min() >= 1 and sy.max() <= 3
    assert T.RandomAffine.get_params([0.0, 0.0], None, None, None, [5, 5]) == \
        TV.RandomAffine.get_params([0.0, 0.0], None, None, None, [5, 5])
    engine.manual_seed(2)
    angles = np.array([T.RandomRotation.get_params([-30.0, 10.0]) for _ in range(3000)])
    assert angles.min() >= -30 and angles.max() <= 10 and abs(angles.mean() + 10) < 0.6


def seeded(transform, img, draw, seed=3):
    """The transform's output and the parameters it drew, drawn again from the same seed."""
    engine.manual_seed(seed)
    params = draw()
    engine.manual_seed(seed)
    return transform(img), params


@pytest.mark.parametrize("kind", ["uint8", "float32", "pil"])
def test_geometric_transforms_give_torchvisions_image_for_their_parameters(TV, kind):
    a = image(np.float32 if kind == "float32" else np.uint8)
    ours_img = Image.fromarray(a.transpose(1, 2, 0)) if kind == "pil" else engine.tensor(a)
    theirs_img = ours_img if kind == "pil" else torch.tensor(a)
    tf = TV.functional
    fill = [1.0, 2.0, 3.0] if kind != "pil" else (1, 2, 3)
    t = T.RandomResizedCrop((9, 7), scale=(0.3, 0.9))
    out, (i, j, h, w) = seeded(t, ours_img, lambda: T.RandomResizedCrop.get_params(ours_img, t.scale, t.ratio))
    ref = tf.resized_crop(theirs_img, i, j, h, w, [9, 7])
    np.testing.assert_allclose(np.asarray(as_np(out), np.float64), np.asarray(as_np(ref), np.float64), atol=1e-6)
    t = T.RandomRotation(40, interpolation=T.InterpolationMode.BILINEAR, expand=True, fill=fill)
    out, angle = seeded(t, ours_img, lambda: T.RandomRotation.get_params(t.degrees))
    ref = tf.rotate(theirs_img, angle, tf.InterpolationMode.BILINEAR, True, None, list(fill))
    np.testing.assert_allclose(np.asarray(as_np(out), np.float64), np.asarray(as_np(ref), np.float64), atol=2e-5)
    t = T.RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -3, 3), fill=fill)
    _, height, width = F.get_dimensions(ours_img)
    out, params = seeded(t, ours_img, lambda: T.RandomAffine.get_params(t.degrees, t.translate, t.scale, t.shear,
                                                                        [width, height]))
    ref = tf.affine(theirs_img, *params, interpolation=tf.InterpolationMode.NEAREST, fill=list(fill))
    np.testing.assert_array_equal(as_np(out), as_np(ref))
    if kind != "pil":
        t = T.GaussianBlur((5, 3), (0.5, 2.0))
        out, sigma = seeded(t, ours_img, lambda: T.GaussianBlur.get_params(0.5, 2.0))
        ref = tf.gaussian_blur(theirs_img, [5, 3], [sigma, sigma])
        np.testing.assert_allclose(np.asarray(as_np(out), np.float64), np.asarray(as_np(ref), np.float64),
                                   atol=2e-5)


def test_random_erasing(TV):
    a = image(np.float32)
    x = engine.tensor(a)
    t = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))
    out, (i, j, h, w, _) = seeded(t, x, lambda: (engine.utils.data.current_rng().random(),
                                                 T.RandomErasing.get_params(x, t.scale, t.ratio, [0.1, 0.2, 0.3]))[1])
    ref = TV.functional.erase(torch.tensor(a), i, j, h, w, torch.tensor([0.1, 0.2, 0.3])[:, None, None])
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert 0 < h < 20 and 0 < w < 24 and out is not x and not np.array_equal(out.numpy(), a)
    # "random": standard normal values in the window; inplace modifies the input
    engine.manual_seed(4)
    draws = [T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), None) for _ in range(300)]
    values = np.concatenate([d[4].numpy().ravel() for d in draws])
    assert abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05
    assert all(d[4].dtype is engine.float32 and d[4].shape == (3, d[2], d[3]) for d in draws)
    areas = np.array([d[2] * d[3] for d in draws]) / (20 * 24)
    assert areas.min() > 0.0 and areas.max() < 0.4
    y = engine.tensor(a.copy())
    assert T.RandomErasing(p=1.0, inplace=True)(y) is y and not np.array_equal(y.numpy(), a)
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(ValueError, match="If value is a sequence, it should have either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)
    # a window that never fits: the image comes back unchanged
    np.testing.assert_array_equal(T.RandomErasing(p=1.0, scale=(0.99, 1.0), ratio=(1, 1))(x).numpy(), a)


def test_random_grayscale_and_containers(TV):
    a = image()
    x, p = engine.tensor(a), Image.fromarray(a.transpose(1, 2, 0))
    out = T.RandomGrayscale(p=1.0)(x)
    np.testing.assert_array_equal(out.numpy(), TV.functional.rgb_to_grayscale(torch.tensor(a), 3).numpy())
    np.testing.assert_array_equal(np.asarray(T.RandomGrayscale(p=1.0)(p)),
                                  np.asarray(TV.functional.rgb_to_grayscale(p, 3)))
    assert T.RandomGrayscale(p=0.0)(x) is x
    engine.manual_seed(0)
    share = np.mean([T.RandomGrayscale(p=0.3)(x) is not x for _ in range(2000)])
    assert abs(share - 0.3) < 0.04
    flip = T.RandomHorizontalFlip(1.0)
    np.testing.assert_array_equal(T.RandomApply([flip, flip], p=1.0)(x).numpy(), a)
    np.testing.assert_array_equal(T.RandomApply([flip], p=1.0)(x).numpy(), a[..., ::-1])
    assert T.RandomApply([flip], p=0.0)(x) is x
    engine.manual_seed(0)
    share = np.mean([T.RandomApply([flip], p=0.25)(x) is not x for _ in range(2000)])
    assert abs(share - 0.25) < 0.04
    np.testing.assert_array_equal(T.RandomChoice([flip, T.RandomVerticalFlip(1.0)], p=[0, 1])(x).numpy(),
                                  a[..., ::-1, :])
    engine.manual_seed(0)
    picks = [T.RandomChoice([T.Lambda(lambda _: 0), T.Lambda(lambda _: 1)], p=[1, 3])(x) for _ in range(2000)]
    assert abs(np.mean(picks) - 0.75) < 0.04
    engine.manual_seed(0)
    orders = {tuple(T.RandomOrder([T.Lambda(lambda s: s + "a"), T.Lambda(lambda s: s + "b"),
                                   T.Lambda(lambda s: s + "c")])("")) for _ in range(200)}
    assert len(orders) == 6


def test_random_transforms_follow_manual_seed():
    x = engine.tensor(image())
    pipeline = T.Compose([T.RandomResizedCrop(12), T.RandomRotation(30), T.RandomAffine(10, shear=5),
                          T.GaussianBlur(3), T.RandomErasing(p=1.0, value="random")])
    runs = []
    for _ in range(2):
        engine.manual_seed(11)
        runs.append(pipeline(engine.tensor(image(np.float32))).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    engine.manual_seed(12)
    assert not np.array_equal(pipeline(engine.tensor(image(np.float32))).numpy(), runs[0])
    assert pipeline.transforms[1](x).dtype is engine.uint8


def test_v2_namespace(TV):
    torchvision()
    import torchvision.transforms.v2 as tv2

    a = image()
    p = Image.fromarray(a.transpose(1, 2, 0))
    for src in (p, a.transpose(1, 2, 0), a[0]):
        ours, theirs = v2.ToImage()(src), tv2.ToImage()(src)
        assert ours.dtype is engine.uint8
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = engine.tensor(a)
    assert v2.ToImage()(x) is x
    for dtype, scale in (("float32", True), ("float32", False), ("uint8", True), ("int32", True)):
        src = a if dtype != "uint8" else (a / 255).astype(np.float32)
        ours = v2.ToDtype(getattr(engine, dtype), scale=scale)(engine.tensor(src))
        theirs = tv2.ToDtype(getattr(torch, dtype), scale=scale)(torch.tensor(src))
        assert ours.dtype is getattr(engine, dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert repr(v2.ToDtype(engine.float32, scale=True)) == repr(tv2.ToDtype(torch.float32, scale=True))
    assert repr(v2.ToImage()) == repr(tv2.ToImage())
    with pytest.raises(RuntimeError, match="The conversion from torch.float32 to torch.int32 cannot be performed"):
        v2.ToDtype(engine.int32, scale=True)(engine.tensor(image(np.float32)))
    u = engine.tensor(a)
    assert v2.ToDtype({engine.Tensor: engine.float32}, scale=True)(u).numpy().max() <= 1.0
    assert v2.ToDtype({"others": engine.int32})(u).dtype is engine.int32
    with pytest.warns(UserWarning, match="scale was set to True but no dtype was specified"):
        assert v2.ToDtype({"others": None}, scale=True)(u) is u
    with pytest.raises(ValueError, match="No dtype was specified for type"):
        v2.ToDtype({str: engine.int32})(u)
    with pytest.raises(ValueError, match="dtype must be a dict or a torch.dtype, got <class 'str'> instead"):
        v2.ToDtype("float32")
    with pytest.raises(TypeError, match="Input can either be a pure Tensor, a numpy array, or a PIL image"):
        v2.ToImage()([1, 2])
    pipeline = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(8, antialias=True), v2.RandomHorizontalFlip(),
                           v2.ToDtype(engine.float32, scale=True), v2.Normalize([0.5] * 3, [0.5] * 3)])
    out = pipeline(p)
    assert out.shape == (3, 8, 8) and out.dtype is engine.float32 and -1 <= out.numpy().min() <= out.numpy().max() <= 1
    for name in ("RandomRotation", "RandomAffine", "GaussianBlur", "RandomErasing", "RandAugment", "AutoAugment",
                 "TrivialAugmentWide", "RandomChoice", "RandomApply", "RandomOrder", "ColorJitter", "Lambda"):
        assert getattr(v2, name) is getattr(T, name)
    assert v2.functional is F


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_color_jitter_matches_torchvision_for_fixed_factors(TV, dtype):
    """ColorJitter applies torchvision's adjustments: with each range a single value and the order
    fixed by the seed, the result is torchvision's functional chain in that order."""
    a = image(dtype)
    t = T.ColorJitter(brightness=(1.2, 1.2), contrast=(0.7, 0.7), saturation=(1.3, 1.3), hue=(0.1, 0.1))
    out, (order, b, c, s, h) = seeded(t, engine.tensor(a), lambda: T.ColorJitter.get_params(
        t.brightness, t.contrast, t.saturation, t.hue))
    ref = torch.tensor(a)
    tf = TV.functional
    ops = [lambda r: tf.adjust_brightness(r, b), lambda r: tf.adjust_contrast(r, c),
           lambda r: tf.adjust_saturation(r, s), lambda r: tf.adjust_hue(r, h)]
    for k in order:
        ref = ops[k](ref)
    np.testing.assert_allclose(np.asarray(out.numpy(), np.float64), np.asarray(ref.numpy(), np.float64),
                               atol=0 if dtype == np.uint8 else 1e-5)  # float32: the HSV round trip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(T.ColorJitter(0.1)) == repr(TV.ColorJitter(0.1))


def test_random_transforms_stay_on_the_device(fake_cuda):
    a = image()
    for build in (lambda: T.RandomResizedCrop(9), lambda: T.RandomRotation(20, expand=True),
                  lambda: T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5), lambda: T.GaussianBlur(3),
                  lambda: T.RandomErasing(p=1.0, value="random"), lambda: T.RandAugment(num_ops=4),
                  lambda: T.TrivialAugmentWide(), lambda: T.AutoAugment(T.AutoAugmentPolicy.SVHN),
                  lambda: T.RandomGrayscale(p=1.0)):
        for seed in range(3):
            engine.manual_seed(seed)
            cpu = build()(engine.tensor(a))
            engine.manual_seed(seed)
            gpu = build()(engine.tensor(a).to("cuda:1"))
            assert gpu.device == engine.device("cuda:1") and gpu.dtype is engine.uint8
            np.testing.assert_array_equal(gpu.cpu().numpy(), cpu.numpy())
