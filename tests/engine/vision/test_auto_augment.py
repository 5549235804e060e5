"""AutoAugment, RandAugment and TrivialAugmentWide against torchvision: every operation at fixed magnitudes
gives torchvision's image (uint8 tensors and batches, PIL images), the policies and magnitude tables are
torchvision's, the operations are drawn uniformly, and the transforms follow ``engine.manual_seed``."""

import numpy as np
import pytest
from PIL import Image
from torchvision_reference import torchvision

import engine
from engine.vision import transforms as T
from engine.vision.transforms import auto_augment as ours_aa

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def AA():
    torchvision()
    import torchvision.transforms.autoaugment as aa

    return aa


def image(shape=(3, 18, 22), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")  # they sample a grid
OPS = [("ShearX", 0.25), ("ShearX", -0.6), ("ShearY", 0.3), ("TranslateX", 7.9), ("TranslateY", -5.0),
       ("Rotate", 23.0), ("Rotate", -120.0), ("Brightness", 0.5), ("Color", -0.4), ("Contrast", 0.7),
       ("Sharpness", 0.9), ("Sharpness", -0.9), ("Posterize", 3.0), ("Solarize", 100.0), ("AutoContrast", 0.0),
       ("Equalize", 0.0), ("Invert", 0.0), ("Identity", 0.0)]


@pytest.mark.parametrize("kind", ["tensor", "batch", "pil"])
@pytest.mark.parametrize(("op", "magnitude"), OPS)
@pytest.mark.parametrize("fill", [None, [10, 20, 30]])
def test_each_operation_matches_torchvision(AA, op, magnitude, kind, fill):
    a = image((2, 3, 18, 22) if kind == "batch" else (3, 18, 22))
    if kind == "pil":
        ours_img = theirs_img = Image.fromarray(a.transpose(1, 2, 0))
        fill_ours = fill_theirs = fill
    else:
        ours_img, theirs_img = engine.tensor(a), torch.tensor(a)
        fill_ours = fill_theirs = None if fill is None else [float(f) for f in fill]
    for interpolation in ("NEAREST", "BILINEAR"):
        ours = ours_aa._apply_op(ours_img, op, magnitude, getattr(T.InterpolationMode, interpolation), fill_ours)
        theirs = AA._apply_op(theirs_img, op, magnitude, getattr(AA.InterpolationMode, interpolation), fill_theirs)
        got = np.asarray(ours.numpy() if kind != "pil" else ours).astype(np.int16)
        want = np.asarray(theirs.numpy() if kind != "pil" else theirs).astype(np.int16)
        if kind == "pil" or op not in GEOMETRIC:
            np.testing.assert_array_equal(got, want)
        elif interpolation == "BILINEAR":  # torch's float32 arithmetic differs between CPUs (Intel and AMD): a
            # value at a rounding tie goes either way, one step
            assert np.abs(got - want).max() <= 1
        else:  # and its sampling grid puts a point on a tie either side: a few pixels take the neighbouring sample
            moved = np.any(got != want, axis=-3)
            assert np.count_nonzero(moved) <= max(2, moved.size // 100), np.argwhere(moved)
    with pytest.raises(ValueError, match="The provided operator Blur is not recognized."):
        ours_aa._apply_op(ours_img, "Blur", 0.0, T.InterpolationMode.NEAREST, None)


def test_policies_and_magnitude_tables_are_torchvisions(AA):
    for policy in T.AutoAugmentPolicy:
        theirs = AA.AutoAugment(AA.AutoAugmentPolicy(policy.value))
        assert T.AutoAugment(policy).policies == theirs.policies
        ours_space = ours_aa._auto_augment_space((18, 22))
        assert list(ours_space) == list(theirs._augmentation_space(10, (18, 22)))
        for name, (magnitudes, signed) in theirs._augmentation_space(10, (18, 22)).items():
            assert ours_space[name][1] == signed
            if magnitudes.ndim:
                np.testing.assert_allclose(ours_space[name][0], magnitudes.numpy(), rtol=1e-6)
            else:
                assert ours_space[name][0] is None
    for bins in (31, 11, 5):
        for wide, theirs in ((False, AA.RandAugment()._augmentation_space(bins, (30, 40))),
                             (True, AA.TrivialAugmentWide()._augmentation_space(bins))):
            ours = ours_aa._augmentation_space(bins, (30, 40), wide=wide)
            assert list(ours) == list(theirs)
            for name, (magnitudes, signed) in theirs.items():
                assert ours[name][1] == signed
                if magnitudes.ndim:
                    np.testing.assert_allclose(ours[name][0], magnitudes.numpy(), rtol=1e-6)
                    assert ours[name][0].dtype.kind == magnitudes.numpy().dtype.kind


def test_repr_and_errors_match_torchvision(AA):
    pairs = [(T.AutoAugment(), AA.AutoAugment()),
             (T.AutoAugment(T.AutoAugmentPolicy.CIFAR10, fill=[1, 2, 3]),
              AA.AutoAugment(AA.AutoAugmentPolicy.CIFAR10, fill=[1, 2, 3])),
             (T.RandAugment(), AA.RandAugment()),
             (T.RandAugment(3, 5, 11, T.InterpolationMode.BILINEAR, 4),
              AA.RandAugment(3, 5, 11, AA.InterpolationMode.BILINEAR, 4)),
             (T.TrivialAugmentWide(), AA.TrivialAugmentWide()),
             (T.TrivialAugmentWide(15, fill=[1.0]), AA.TrivialAugmentWide(15, fill=[1.0]))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="The provided policy cifar is not recognized."):
        T.AutoAugment("cifar")
    with pytest.raises(ValueError, match="The provided policy cifar is not recognized."):
        AA.AutoAugment("cifar")


def test_operations_are_drawn_uniformly():
    """RandAugment and TrivialAugmentWide draw each of their 14 operations with probability 1/14: counted
    through the operation each call applies (3500 draws: 250 expected each, standard deviation ~15)."""
    applied = []

    def record(img, op_name, magnitude, interpolation, fill):
        applied.append((op_name, magnitude))
        return img

    x = engine.tensor(image())
    original = ours_aa._apply_op
    ours_aa._apply_op = record
    try:
        engine.manual_seed(0)
        for _ in range(1750):
            T.RandAugment(num_ops=2, magnitude=30)(x)
        names, _ = zip(*applied)
        counts = {n: names.count(n) for n in set(names)}
        assert len(counts) == 14 and "Invert" not in counts and min(counts.values()) > 180
        rotations = [m for n, m in applied if n == "Rotate"]
        assert set(rotations) == {30.0, -30.0} and abs(np.mean(rotations)) < 5  # bin 30 of 31: the top, +-
        applied.clear()
        engine.manual_seed(1)
        for _ in range(3500):
            T.TrivialAugmentWide()(x)
        names, _ = zip(*applied)
        assert min(names.count(n) for n in set(names)) > 180 and len(set(names)) == 14
        rotations = np.array([m for n, m in applied if n == "Rotate"])
        assert rotations.min() >= -135 and rotations.max() <= 135 and len(set(rotations)) > 40
    finally:
        ours_aa._apply_op = original


def test_auto_augment_applies_its_sub_policies(AA):
    """With the draws fixed, AutoAugment is torchvision's sub-policy on the same image."""
    a = image()
    for policy in T.AutoAugmentPolicy:
        t = T.AutoAugment(policy)
        for seed in range(6):
            engine.manual_seed(seed)
            transform_id, probs, signs = T.AutoAugment.get_params(len(t.policies))
            engine.manual_seed(seed)
            out = t(engine.tensor(a))
            ref = torch.tensor(a)
            space = AA.AutoAugment()._augmentation_space(10, (18, 22))
            for i, (op_name, p, magnitude_id) in enumerate(t.policies[transform_id]):
                if probs[i] <= p:
                    magnitudes, signed = space[op_name]
                    magnitude = float(magnitudes[magnitude_id].item()) if magnitude_id is not None else 0.0
                    if signed and signs[i] == 0:
                        magnitude *= -1.0
                    ref = AA._apply_op(ref, op_name, magnitude, AA.InterpolationMode.NEAREST, None)
            np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("build", [lambda: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10), lambda: T.RandAugment(),
                                   lambda: T.TrivialAugmentWide(fill=128)])
def test_policies_follow_manual_seed_on_tensors_and_pil(build):
    a = image()
    for src in (engine.tensor(a), Image.fromarray(a.transpose(1, 2, 0))):
        outs = []
        for _ in range(2):
            engine.manual_seed(5)
            t = build()
            outs.append(np.stack([np.asarray(t(src).numpy() if isinstance(src, engine.Tensor) else t(src))
                                  for _ in range(8)]))
        np.testing.assert_array_equal(outs[0], outs[1])
        assert outs[0].dtype == np.uint8
