"""engine.vision.models against torchvision's: the same state-dict keys and shapes, and with torchvision's
weights the same outputs (eval) and gradients (train); weight enums, the registry, and loading from the cache."""

import os

import numpy as np
import pytest
from torchvision_reference import torchvision

import engine
from engine.vision import models

torch = pytest.importorskip("torch")

# name, input side (at least the model's min_size), tolerance of the outputs
MODELS = [
    ("resnet18", 64), ("resnet34", 48), ("resnet50", 64), ("alexnet", 64), ("vgg11", 32),
    ("vgg16_bn", 32), ("squeezenet1_0", 48), ("squeezenet1_1", 48), ("densenet121", 32), ("mobilenet_v2", 32),
    ("mobilenet_v3_small", 32), ("mobilenet_v3_large", 32), ("efficientnet_b0", 32), ("convnext_tiny", 32),
    ("vit_b_16", 224),
]


def _pair(name, **kwargs):
    torch.manual_seed(0)
    engine.manual_seed(0)
    theirs = getattr(torchvision("models"), name)(**kwargs)
    ours = getattr(models, name)(**kwargs)
    return ours, theirs


def _load_theirs(ours, theirs):
    tsd = theirs.state_dict()
    assert list(ours.state_dict()) == list(tsd)
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in tsd.values()]
    ours.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})


def _same_initialisation(ours, theirs):
    """Each tensor starts as torchvision's: constants equal, random ones with the same mean and spread."""
    ours_state = ours.state_dict()
    for key, value in theirs.state_dict().items():
        t, o = value.double().numpy(), ours_state[key].double().numpy()
        if t.std() == 0 or t.size < 500:
            if t.std() == 0:
                np.testing.assert_array_equal(o, t, err_msg=key)
            continue
        n = t.size  # two samples of n draws: allow six standard errors of their difference
        assert abs(o.std() / t.std() - 1) < 6 / np.sqrt(n), key
        assert abs(o.mean() - t.mean()) < 6 * np.sqrt(2 / n) * t.std(), key


@pytest.mark.parametrize("name, side", MODELS, ids=[m[0] for m in MODELS])
def test_model_matches_torchvision(name, side):
    ours, theirs = _pair(name, num_classes=10)
    _same_initialisation(ours, theirs)
    _load_theirs(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 3, side, side), dtype=np.float32)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    with engine.no_grad():
        got = ours(engine.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


# Training cases (model in ``M``, engine's or torchvision's; side): dropout and stochastic depth off, so both
# frameworks draw nothing; the newer families in small configurations of their own classes, to stay quick.
TRAINING = {
    "resnet18": (lambda M: M.resnet18(num_classes=10), 32),
    "squeezenet1_1": (lambda M: M.squeezenet1_1(num_classes=10, dropout=0.0), 48),
    "densenet121": (lambda M: M.densenet121(num_classes=10), 32),
    "mobilenet_v3_small": (lambda M: M.mobilenet_v3_small(num_classes=10, dropout=0.0, width_mult=0.5), 32),
    "EfficientNet": (lambda M: M.EfficientNet([M.efficientnet.MBConvConfig(1, 3, 1, 16, 8, 1),
                                               M.efficientnet.MBConvConfig(6, 5, 2, 8, 16, 2)],
                                              dropout=0.0, stochastic_depth_prob=0.0, num_classes=10), 32),
    "ConvNeXt": (lambda M: M.ConvNeXt([M.convnext.CNBlockConfig(16, 32, 2), M.convnext.CNBlockConfig(32, None, 1)],
                                      num_classes=10), 32),
    "VisionTransformer": (lambda M: M.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                                                        hidden_dim=64, mlp_dim=128, num_classes=10), 32),
}


@pytest.mark.parametrize("name", list(TRAINING))
def test_training_gradients_match_torchvision(name):
    """Train mode (batch statistics): input and weight gradients and the running statistics. In float64: batch
    norm over a few values per channel deep in these networks is ill-conditioned enough that float32 rounding
    alone moves the gradients by a percent."""
    make, side = TRAINING[name]
    torch.manual_seed(0)
    engine.manual_seed(0)
    ours, theirs = make(models), make(torchvision("models"))
    rng = np.random.default_rng(3)
    with torch.no_grad():  # a head initialised to zeros (ViT's) would stop every gradient below it
        for p in theirs.parameters():
            if p.ndim > 1 and not p.any():
                p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.1))
    _load_theirs(ours, theirs)
    ours.double()
    theirs.double()
    x = np.random.default_rng(1).standard_normal((4, 3, side, side))
    ex, tx = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(ex).square().mean().backward()
    theirs(tx).square().mean().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-8 * tx.grad.abs().max().item())
    ours_grads = dict(ours.named_parameters())
    # against the largest gradient of all: a bias feeding a batch norm has a gradient of zero plus rounding
    scale = max(p.grad.abs().max().item() for p in theirs.parameters())
    for key, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_grads[key].grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-8 * scale,
                                   err_msg=key)
    for key, buf in theirs.named_buffers():
        np.testing.assert_allclose(dict(ours.named_buffers())[key].numpy(), buf.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=key)


def test_initialisation_follows_torchvision():
    """Kaiming normal with fan_out for ResNet's convolutions, BN at (1, 0), zero-init residual on request."""
    torch.manual_seed(0)
    engine.manual_seed(0)
    ours = models.resnet50(zero_init_residual=True)
    w = ours.layer3[0].conv2.weight.detach().numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std() / np.sqrt(2.0 / fan_out) - 1) < 0.05
    assert np.all(ours.layer3[0].bn3.weight.detach().numpy() == 0)
    assert np.all(ours.layer3[0].bn1.weight.detach().numpy() == 1)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg16", "alexnet", "squeezenet1_1", "densenet121"])
def test_parameter_count_is_the_weights_meta(name):
    model = getattr(models, name)()
    assert sum(p.numel() for p in model.parameters()) == models.get_model_weights(name).DEFAULT.meta["num_params"]


def test_registry_and_weight_enums():
    tvm = torchvision("models")
    assert set(models.list_models()) <= set(tvm.list_models())
    assert models.list_models(include="resnet*") == ["resnet18", "resnet34", "resnet50"]
    assert models.list_models(include=["vgg*", "alex*"], exclude="*_bn") == ["alexnet", "vgg11", "vgg16"]
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is models.ResNet50_Weights.DEFAULT
    assert repr(models.ResNet50_Weights.DEFAULT) == "ResNet50_Weights.IMAGENET1K_V2"
    for name in models.list_models():
        ours, theirs = models.get_model_weights(name), tvm.get_model_weights(name)
        assert list(ours.__members__) == list(theirs.__members__)
        for member in ours:
            twin = theirs[member.name]
            assert member.url == twin.url
            assert member.meta["categories"] == twin.meta["categories"]
            assert (member.meta["categories"] is None) == (member.name == "IMAGENET1K_FEATURES")
            assert member.meta["num_params"] == twin.meta["num_params"]
            assert member.meta["min_size"] == twin.meta["min_size"]
            assert repr(member.transforms()) == repr(twin.transforms())
    assert isinstance(models.get_model("resnet18", num_classes=3), models.ResNet)
    with pytest.raises(ValueError, match="Unknown model nope"):
        models.get_model("nope")
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received ResNet50_Weights"):
        models.resnet18(weights=models.ResNet50_Weights.DEFAULT)
    with pytest.raises(ValueError, match="'num_classes' expected value 1000 but got 10"):
        models.resnet18(weights="DEFAULT", num_classes=10)


def test_preset_transform_matches_torchvision():
    from PIL import Image

    tvm = torchvision("models")
    img = Image.fromarray(np.random.default_rng(2).integers(0, 256, (300, 260, 3), dtype=np.uint8))
    ours = models.ResNet50_Weights.DEFAULT.transforms()(img).numpy()
    theirs = tvm.ResNet50_Weights.DEFAULT.transforms()(img).numpy()
    assert ours.shape == theirs.shape == (3, 224, 224)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_weights_come_from_the_hub_cache(tmp_path, monkeypatch):
    """A file placed in the cache by hand is used without a network, as torchvision does; DenseNet's older key
    names are renamed on the way."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(engine.hub, "_hub_dir", None)
    checkpoints = tmp_path / "hub" / "checkpoints"
    os.makedirs(checkpoints)
    _, theirs = _pair("resnet18")
    torch.save(theirs.state_dict(), checkpoints / "resnet18-f37072fd.pth")
    ours = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1, progress=False)
    np.testing.assert_array_equal(ours.fc.weight.detach().numpy(), theirs.fc.weight.detach().numpy())

    _, dense = _pair("densenet121")
    old_names = {k.replace(".norm1.", ".norm.1.").replace(".conv2.", ".conv.2."): v  # and from before
                 for k, v in dense.state_dict().items() if not k.endswith("num_batches_tracked")}  # BN counted
    assert "features.denseblock1.denselayer1.norm.1.weight" in old_names
    torch.save(old_names, checkpoints / "densenet121-a639ec97.pth")
    ours = models.densenet121(weights="DEFAULT", progress=False)
    np.testing.assert_array_equal(ours.features.denseblock1.denselayer1.norm1.weight.detach().numpy(),
                                  dense.features.denseblock1.denselayer1.norm1.weight.detach().numpy())
