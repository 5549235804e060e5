"""The training recipe: transforms, data splits, optimizer and schedule from a document's settings, and
image-folder datasets."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine
from engine import optim
from engine.graph import SETTINGS_GROUPS, Network, NetworkError
from engine.graph.settings import OPTIMIZERS, SCHEDULERS
from engine.graph.templates import load_template
from engine.training.recipe import (
    eval_transform,
    load_data,
    load_test_data,
    make_loader,
    make_optimizer,
    make_scheduler,
    prepare_training,
    train_transform,
)

needs_fashion_mnist = pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                                         reason="Debian's dataset-fashion-mnist package is not installed")


def kinds(transform):
    return [type(t).__name__ for t in transform.transforms]


def folder_network(data_dir, shape=(3, 16, 16), **settings):
    """Input (image folder) → Flatten → Linear(2) → Output."""
    net = Network(title="folder")
    nodes = [net.add_node("Input", {"shape": shape, "dataset": "Image folder"}), net.add_node("Flatten"),
             net.add_node("Linear", {"out_features": 2}), net.add_node("Output")]
    for a, b in itertools.pairwise(nodes):
        net.connect(a.id, b.id)
    net.set_settings({"data_dir": str(data_dir), "batch_size": 4, **settings})
    return net


@pytest.fixture
def image_folder(tmp_path):
    """train/ and test/ folders of cat (reddish RGB, 20×24) and dog (grey 'L' and RGBA, 30×30) PNGs."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("test", 2)):
        for name in ("cat", "dog"):
            (tmp_path / split / name).mkdir(parents=True)
        for i in range(count):
            red = np.clip(rng.normal((200, 40, 40), 20, (24, 20, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(red).save(tmp_path / split / "cat" / f"{i}.png")
            grey = rng.integers(0, 80, (30, 30), dtype=np.uint8)
            image = Image.fromarray(grey, "L") if i % 2 else Image.fromarray(grey, "L").convert("RGBA")
            image.save(tmp_path / split / "dog" / f"{i}.png")
    return tmp_path


# ----- transforms -----
def test_eval_transform_normalises_with_the_dataset_statistics():
    net = load_template("mlp_fashion_mnist")
    transform = eval_transform(net)
    assert kinds(transform) == ["ToTensor", "Normalize"]
    assert transform.transforms[1].mean == (0.2860,) and transform.transforms[1].std == (0.3530,)
    white = transform(Image.new("L", (28, 28), 255))
    assert white.shape == (1, 28, 28) and np.allclose(white.numpy(), (1 - 0.2860) / 0.3530)
    net.set_settings({"normalize": False})
    assert kinds(eval_transform(net)) == ["ToTensor"]
    assert float(eval_transform(net)(Image.new("L", (28, 28), 255)).max()) == 1.0


def test_train_transform_adds_the_augmentations_before_the_tensor():
    net = load_template("lenet_cifar10")
    assert kinds(train_transform(net)) == kinds(eval_transform(net)) == ["ToTensor", "Normalize"]
    net.set_settings({"augment_crop_padding": 4, "augment_hflip": True})
    transform = train_transform(net)
    assert kinds(transform) == ["RandomCrop", "RandomHorizontalFlip", "ToTensor", "Normalize"]
    crop = transform.transforms[0]
    assert (crop.size, crop.padding, crop.padding_mode) == ((32, 32), 4, "reflect")
    assert transform(Image.new("RGB", (32, 32))).shape == (3, 32, 32)
    assert kinds(eval_transform(net)) == ["ToTensor", "Normalize"]  # evaluation is never augmented


def test_image_folder_transforms_resize_and_match_the_channels(tmp_path):
    colour = eval_transform(folder_network(tmp_path, (3, 16, 16)))
    assert kinds(colour) == ["Resize", "ToTensor", "Normalize"] and colour.transforms[0].size == (16, 16)
    grey = eval_transform(folder_network(tmp_path, (1, 8, 12)))
    assert kinds(grey) == ["Resize", "Grayscale", "ToTensor", "Normalize"]
    assert grey.transforms[-1].mean == (0.5,)
    assert grey(Image.new("RGB", (40, 30), (255, 0, 0))).shape == (1, 8, 12)


# ----- data splits -----
@needs_fashion_mnist
def test_validation_split_is_a_seeded_share_of_the_training_images():
    net = load_template("mlp_fashion_mnist")
    net.set_settings({"val_split": 0.1, "augment_hflip": True})
    data = load_data(net)
    assert (len(data.train), len(data.val), len(data.test)) == (54000, 6000, 10000)
    train, val = np.asarray(data.train.indices), np.asarray(data.val.indices)
    assert len(np.intersect1d(train, val)) == 0 and len(np.union1d(train, val)) == 60000
    assert kinds(data.val.dataset.transform) == ["ToTensor", "Normalize"]  # held-out images are not augmented
    assert "RandomHorizontalFlip" in kinds(data.train.dataset.transform)
    assert data.classes[0] == "T-shirt/top"
    assert np.array_equal(load_data(net).val.indices, val)  # the same seed, the same split
    net.set_settings({"seed": 1, "train_limit": 1000})
    other = load_data(net)
    assert not np.array_equal(other.val.indices, val)
    assert len(other.train) == 1000 and np.all(np.diff(other.train.indices) > 0)
    assert len(np.intersect1d(other.train.indices, other.val.indices)) == 0
    net.set_settings({"val_split": 0.0})
    no_split = load_data(net)
    assert no_split.val is no_split.test and list(no_split.train.indices) == list(range(1000))


@needs_fashion_mnist
def test_load_test_data_reads_the_test_split_alone():
    net = load_template("mlp_fashion_mnist")
    test, classes = load_test_data(net)
    assert len(test) == 10000 and classes[-1] == "Ankle boot" and kinds(test.transform) == ["ToTensor", "Normalize"]


# ----- optimizer and schedule -----
def _params():
    return [engine.nn.Parameter(engine.zeros(3))]


@pytest.mark.parametrize(("settings", "cls", "expected"), [
    ({"optimizer": "SGD", "lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-4}, optim.SGD,
     {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-4}),
    ({"optimizer": "Adam", "lr": 0.002, "beta1": 0.8, "beta2": 0.99}, optim.Adam,
     {"lr": 0.002, "betas": (0.8, 0.99), "weight_decay": 0.0}),
    ({"optimizer": "AdamW", "weight_decay": 0.05}, optim.AdamW, {"weight_decay": 0.05}),
    ({"optimizer": "RMSprop", "lr": 0.01, "momentum": 0.5}, optim.RMSprop, {"lr": 0.01, "momentum": 0.5}),
])
def test_optimizer_follows_the_settings(settings, cls, expected):
    net = load_template("lenet_cifar10")
    net.set_settings(settings)
    optimizer = make_optimizer(net, _params())
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    for key, value in expected.items():
        assert group[key] == pytest.approx(value), key


def _changed(spec, settings):
    """A valid value of ``spec`` other than the one in ``settings``."""
    value = settings[spec.name]
    if spec.kind == "bool":
        return not value
    if spec.kind == "ints":
        return (*value, 7)
    return value / 2 if spec.kind == "float" and value else spec.maximum if value == spec.minimum else spec.minimum


def _options(group):
    """The specs of a settings group but its first (the optimizer or scheduler choice)."""
    return SETTINGS_GROUPS[group][1:]


def _group(optimizer):
    return {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_make_optimizer_passes_exactly_the_options_the_specs_say_apply(name):
    """PyTorch's optimizer given the options whose spec applies to ``name`` has the same param_groups; changing
    an option that does not apply changes nothing."""
    torch = pytest.importorskip("torch")
    net = load_template("lenet_cifar10")
    net.set_settings({"optimizer": name, "momentum": 0.5, "nesterov": name == "SGD", "weight_decay": 0.01,
                      "beta1": 0.8, "beta2": 0.95, "lr": 0.03})
    settings = dict(net.settings)
    applying = {spec.name: settings[spec.name] for spec in _options("Optimiser") if spec.applies_to(settings)}
    if "beta1" in applying:
        applying["betas"] = (applying.pop("beta1"), applying.pop("beta2"))
    ours = _group(make_optimizer(net, _params()))
    assert ours == _group(getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))], **applying))
    for spec in _options("Optimiser"):
        if not spec.applies_to(settings):
            net.set_settings({spec.name: _changed(spec, settings)})
            assert _group(make_optimizer(net, _params())) == ours, spec.name
            net.set_settings(settings)


@pytest.mark.parametrize("name", SCHEDULERS[1:])
def test_make_scheduler_reads_exactly_the_options_the_specs_say_apply(name):
    """Each schedule option whose spec applies to ``name`` changes the scheduler; the others change nothing."""
    net = load_template("lenet_cifar10")
    net.set_settings({"scheduler": name, "milestones": (2, 4), "gamma": 0.5})
    settings = dict(net.settings)

    def state():
        scheduler = make_scheduler(net, make_optimizer(net, _params()), 10)[0]
        return {k: v for k, v in vars(scheduler).items() if k != "optimizer"}

    before = state()
    for spec in _options("Schedule"):
        net.set_settings({spec.name: _changed(spec, settings)})
        assert (state() != before) == spec.applies_to(settings), spec.name
        net.set_settings(settings)


def test_nesterov_without_momentum_is_refused():
    net = load_template("lenet_cifar10")
    net.set_settings({"nesterov": True, "momentum": 0.0})
    with pytest.raises(NetworkError, match="nesterov needs a momentum above 0"):
        make_optimizer(net, _params())


@pytest.mark.parametrize(("settings", "cls", "interval", "check"), [
    ({"scheduler": "StepLR", "step_size": 3, "gamma": 0.5}, "StepLR", "epoch",
     lambda s: (s.step_size, s.gamma) == (3, 0.5)),
    ({"scheduler": "MultiStepLR", "milestones": [2, 4]}, "MultiStepLR", "epoch",
     lambda s: sorted(s.milestones.elements()) == [2, 4]),
    ({"scheduler": "CosineAnnealingLR", "epochs": 7}, "CosineAnnealingLR", "epoch", lambda s: s.T_max == 7),
    ({"scheduler": "OneCycleLR", "epochs": 3}, "OneCycleLR", "step", lambda s: s.total_steps == 3 * 50),
    ({"scheduler": "ReduceLROnPlateau", "patience": 2, "gamma": 0.2}, "ReduceLROnPlateau", "epoch",
     lambda s: (s.patience, s.factor) == (2, 0.2)),
])
def test_scheduler_follows_the_settings(settings, cls, interval, check):
    net = load_template("lenet_cifar10")
    net.set_settings(settings)
    scheduler, got_interval = make_scheduler(net, make_optimizer(net, _params()), steps_per_epoch=50)
    assert type(scheduler).__name__ == cls and got_interval == interval and check(scheduler)


def test_no_scheduler():
    net = load_template("lenet_cifar10")
    assert make_scheduler(net, make_optimizer(net, _params()), 10) == (None, "epoch")


# ----- image folders -----
def test_image_folder_dataset_trains_end_to_end(image_folder):
    net = folder_network(image_folder, val_split=0.25, epochs=1)
    data = load_data(net)
    assert data.classes == ("cat", "dog")
    assert (len(data.train), len(data.val), len(data.test)) == (9, 3, 4)
    image, label = data.train.dataset[0]
    assert image.shape == (3, 16, 16) and label == 0
    assert data.test[3][0].shape == (3, 16, 16)  # an RGBA dog, resized and converted
    loader = make_loader(net, data.train, train=True)
    assert loader.batch_size == 4 and make_loader(net, data.test, train=False).batch_size == 256
    setup = prepare_training(net, data=data)
    info = setup.trainer.fit(1)
    assert info.status == "finished" and setup.trainer.global_step == 3
    assert setup.trainer.evaluate(setup.test_loader).count == 4


def test_image_folder_needs_a_folder(tmp_path):
    net = folder_network(tmp_path)
    net.set_settings({"data_dir": ""})
    with pytest.raises(NetworkError, match="an image-folder dataset needs a folder: set data_dir"):
        load_data(net)
    with pytest.raises(FileNotFoundError, match="train"):
        load_data(net, data_dir=str(tmp_path))
