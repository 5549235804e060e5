"""Augmentation settings: each one changes ``transform_calls`` as described (torchvision's order: the image's
geometry, policy and colour, then ToTensor and Normalize, then RandomErasing), old documents keep their
pipeline, bad values give the usual errors, the recipe's pipeline makes float32 batches of real CIFAR-10, and the
exported script's transforms build with real torchvision as the same classes with the same arguments."""

import json
import os
import re

import numpy as np
import pytest
from PIL import Image
from torchvision_reference import torchvision

import engine
from engine.graph import NetworkError
from engine.graph.catalogue import ModuleCall
from engine.graph.datasets import EnumMember, transform_calls
from engine.graph.export import export_network
from engine.graph.fileformat import NetworkFileError, network_from_json, network_to_json
from engine.graph.settings import SETTINGS_GROUPS, default_settings, validate_settings
from engine.graph.templates import load_template
from engine.training import recipe
from engine.utils.data import DataLoader, Subset
from engine.vision import transforms as T

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CIFAR = os.path.join(ROOT, "..", "shared", "data", "cifar10")
needs_cifar = pytest.mark.skipif(not os.path.isdir(os.path.join(CIFAR, "cifar-10-batches-py")),
                                 reason="the real CIFAR-10 (../shared/data/cifar10) is not beside this checkout")

NORMALIZE = ModuleCall("Normalize", ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)))
CIFAR10_POLICY = EnumMember("AutoAugmentPolicy", "CIFAR10")
# one setting changed -> the calls it adds before the tensor, and after the normalisation
SINGLE = [
    ({"augment_crop_padding": 3}, [ModuleCall("RandomCrop", ((32, 32),), {"padding": 3, "padding_mode": "reflect"})],
     []),
    ({"augment_crop": "resized crop"}, [ModuleCall("RandomResizedCrop", ((32, 32),), {"scale": (0.35, 1.0)})], []),
    ({"augment_crop": "resized crop", "augment_crop_scale": 0.5, "augment_crop_padding": 4},
     [ModuleCall("RandomResizedCrop", ((32, 32),), {"scale": (0.5, 1.0)})], []),
    ({"augment_hflip": True}, [ModuleCall("RandomHorizontalFlip")], []),
    ({"augment_rotation": 12.5}, [ModuleCall("RandomRotation", (12.5,))], []),
    ({"augment_policy": "AutoAugment CIFAR-10"}, [ModuleCall("AutoAugment", (), {"policy": CIFAR10_POLICY})], []),
    ({"augment_policy": "RandAugment"}, [ModuleCall("RandAugment")], []),
    ({"augment_policy": "TrivialAugmentWide"}, [ModuleCall("TrivialAugmentWide")], []),
    ({"augment_color_jitter": 0.4},
     [ModuleCall("ColorJitter", (), {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4})], []),
    ({"augment_grayscale": 0.2}, [ModuleCall("RandomGrayscale", (), {"p": 0.2})], []),
    ({"augment_blur": True}, [ModuleCall("GaussianBlur", (3,), {"sigma": (0.1, 2.0)})], []),
    ({"augment_erasing": 0.25}, [], [ModuleCall("RandomErasing", (), {"p": 0.25})]),
]
EVERYTHING = {"augment_crop": "resized crop", "augment_crop_scale": 0.3, "augment_hflip": True,
              "augment_rotation": 10.0, "augment_policy": "AutoAugment CIFAR-10", "augment_color_jitter": 0.3,
              "augment_grayscale": 0.1, "augment_blur": True, "augment_erasing": 0.5}


def lenet(**settings):
    network = load_template("lenet_cifar10")
    network.set_settings(settings)
    return network


@pytest.mark.parametrize("settings, before, after", SINGLE, ids=lambda v: "-".join(v) if isinstance(v, dict) else "")
def test_each_setting_adds_its_transform_in_torchvisions_place(settings, before, after):
    network = lenet(**settings)
    assert transform_calls(network, True) == [*before, ModuleCall("ToTensor"), NORMALIZE, *after]
    assert transform_calls(network, False) == [ModuleCall("ToTensor"), NORMALIZE]  # evaluation is never augmented


def test_all_augmentations_come_in_pipeline_order_and_the_form_lists_them_so():
    names = [call.cls for call in transform_calls(lenet(**EVERYTHING), True)]
    assert names == ["RandomResizedCrop", "RandomHorizontalFlip", "RandomRotation", "AutoAugment", "ColorJitter",
                     "RandomGrayscale", "GaussianBlur", "ToTensor", "Normalize", "RandomErasing"]
    assert [spec.name for spec in SETTINGS_GROUPS["Augmentation"]] == [
        "augment_crop", "augment_crop_padding", "augment_crop_scale", "augment_hflip", "augment_rotation",
        "augment_policy", "augment_color_jitter", "augment_grayscale", "augment_blur", "augment_erasing"]


def test_the_crop_options_apply_only_to_their_crop():
    specs = {spec.name: spec for spec in SETTINGS_GROUPS["Augmentation"]}
    pad, resized = default_settings(), {**default_settings(), "augment_crop": "resized crop"}
    assert specs["augment_crop_padding"].applies_to(pad) and not specs["augment_crop_padding"].applies_to(resized)
    assert specs["augment_crop_scale"].applies_to(resized) and not specs["augment_crop_scale"].applies_to(pad)


def test_the_defaults_augment_nothing():
    assert transform_calls(lenet(), True) == [ModuleCall("ToTensor"), NORMALIZE]


def test_a_document_written_before_these_settings_loads_with_its_old_pipeline():
    """The ResNet template as saved before: only augment_crop_padding and augment_hflip among the augmentations."""
    data = network_to_json(load_template("resnet_cifar10"))
    new = [spec.name for spec in SETTINGS_GROUPS["Augmentation"]
           if spec.name not in ("augment_crop_padding", "augment_hflip")]
    old = {**data, "training": {k: v for k, v in data["training"].items() if k not in new}}
    network = network_from_json(json.loads(json.dumps(old)), "old.llnet")
    assert transform_calls(network, True) == [
        ModuleCall("RandomCrop", ((32, 32),), {"padding": 4, "padding_mode": "reflect"}),
        ModuleCall("RandomHorizontalFlip"), ModuleCall("ToTensor"), NORMALIZE]
    assert {k: network.settings[k] for k in new} == {k: default_settings()[k] for k in new}


@pytest.mark.parametrize("name, value, message", [
    ("augment_erasing", 1.5, "'augment_erasing' must be between 0 and 1, got 1.5"),
    ("augment_rotation", -5, "'augment_rotation' must be between 0 and 180, got -5"),
    ("augment_crop_scale", 0.0, "'augment_crop_scale' must be between 0.05 and 1, got 0"),
    ("augment_grayscale", "often", "'augment_grayscale' must be a number, got 'often'"),
    ("augment_blur", 1, "'augment_blur' must be true or false, got 1"),
    ("augment_policy", "AutoAugment", "'augment_policy' must be one of 'none', 'AutoAugment CIFAR-10', "
                                      "'RandAugment', 'TrivialAugmentWide', got 'AutoAugment'"),
    ("augment_crop", "center", "'augment_crop' must be one of 'pad and crop', 'resized crop', got 'center'"),
])
def test_bad_values_are_refused_naming_the_setting(name, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_settings({name: value})
    with pytest.raises(NetworkError, match=re.escape(message)):
        lenet().set_settings({name: value})
    data = network_to_json(lenet())
    data["training"][name] = value
    with pytest.raises(NetworkFileError, match=re.escape(f"training settings: {message}")):
        network_from_json(data, "bad.llnet")


def test_the_recipe_resolves_the_policy_to_the_engines_enum():
    steps = recipe.train_transform(lenet(augment_policy="AutoAugment CIFAR-10")).transforms
    assert isinstance(steps[0], T.AutoAugment) and steps[0].policy is T.AutoAugmentPolicy.CIFAR10


@needs_cifar
@pytest.mark.parametrize("settings", [*(s for s, _, _ in SINGLE), EVERYTHING],
                         ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_the_recipe_pipeline_makes_float32_batches_of_real_cifar10(settings):
    network = lenet(data_dir=CIFAR, val_split=0.0, **settings)
    data = recipe.load_data(network)
    assert [type(t).__name__ for t in data.train.transform.transforms] == [
        c.cls for c in transform_calls(network, True)]
    engine.manual_seed(0)
    images, labels = next(iter(DataLoader(Subset(data.train, range(32)), batch_size=32)))
    assert images.shape == (32, 3, 32, 32) and images.dtype == engine.float32 and labels.shape == (32,)
    assert np.isfinite(images.numpy()).all()
    plain = lenet(data_dir=CIFAR, val_split=0.0)
    data.train.transform = recipe.train_transform(plain)
    unaugmented = next(iter(DataLoader(Subset(data.train, range(32)), batch_size=32)))[0]
    assert not np.array_equal(images.numpy(), unaugmented.numpy())  # the augmentation did something
    if settings == {"augment_hflip": True}:  # each image as it was or mirrored
        for image, plain_image in zip(images.numpy(), unaugmented.numpy(), strict=True):
            assert np.array_equal(image, plain_image) or np.array_equal(image, plain_image[..., ::-1])


def _exported_transforms(network, tmp_path):
    """The source of the exported engine script's ``transforms`` function."""
    script, _ = export_network(network, None, "engine", tmp_path / "model")
    with open(script, encoding="utf-8") as f:
        source = f.read()
    start = source.index("def transforms(train):")
    return source[start:source.index("\n\n\n", start)]


@pytest.mark.parametrize("settings", [EVERYTHING, {"augment_policy": "RandAugment", "augment_crop_padding": 4},
                                      {"augment_policy": "TrivialAugmentWide", "augment_grayscale": 0.5}],
                         ids=["everything", "randaugment", "trivialaugment"])
def test_the_exported_transforms_build_with_real_torchvision_as_the_recipes(settings, tmp_path):
    tv = torchvision("transforms")
    network = lenet(**settings)
    source = _exported_transforms(network, tmp_path)
    if settings["augment_policy"].startswith("AutoAugment"):
        assert "policy=T.AutoAugmentPolicy.CIFAR10" in source
    namespace = {"T": tv}
    exec(source, namespace)
    for train in (True, False):
        theirs = namespace["transforms"](train)
        ours = recipe.train_transform(network) if train else recipe.eval_transform(network)
        assert [type(t).__name__ for t in theirs.transforms] == [type(t).__name__ for t in ours.transforms]
        assert repr(theirs) == repr(ours)
    if settings["augment_policy"].startswith("AutoAugment"):
        assert namespace["transforms"](True).transforms[3].policy is tv.AutoAugmentPolicy.CIFAR10
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    out = namespace["transforms"](True)(image)
    assert tuple(out.shape) == (3, 32, 32) and str(out.dtype) == "torch.float32"


def test_the_exported_engine_transforms_follow_the_recipe_with_every_augmentation(tmp_path):
    network = lenet(**EVERYTHING)
    namespace = {"T": T}
    exec(_exported_transforms(network, tmp_path), namespace)
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    engine.manual_seed(5)
    want = recipe.train_transform(network)(image).numpy()
    engine.manual_seed(5)
    np.testing.assert_array_equal(namespace["transforms"](True)(image).numpy(), want)
