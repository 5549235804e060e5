"""Grad-CAM and saliency of a LeNet trained on the real CIFAR-10, against the same computed by hand in PyTorch
(forward hook, ``backward``) on the exported PyTorch model with the same weights; what the maps look like;
that no state is left behind; and the errors."""

import runpy

import numpy as np
import pytest
from trained_lenet import needs_cifar, trained_lenet

import engine
from engine.graph.export import export_network
from engine.training.attribution import AttributionError, grad_cam, image_layers, normalise, overlay, saliency

torch = pytest.importorskip("torch")
pytestmark = needs_cifar
IMAGES = 8
IMAGE_LAYERS = "conv1, relu1, pool1, conv2, relu2, pool2"  # the LeNet layers with (N, K, h, w) outputs


@pytest.fixture(scope="module")
def lenet():
    return trained_lenet()


@pytest.fixture(scope="module")
def torch_lenet(lenet, tmp_path_factory):
    """The exported PyTorch module of the template, holding the trained weights."""
    from safetensors.torch import load_file

    folder = tmp_path_factory.mktemp("export")
    script, weights = export_network(lenet.network, lenet.model.state_dict(), "pytorch", folder / "lenet")
    namespace = runpy.run_path(script, run_name="exported_lenet")
    (cls,) = [v for v in namespace.values() if isinstance(v, type) and v.__module__ == "exported_lenet"]
    model = cls()
    model.load_state_dict(load_file(weights))
    return model.eval()


def torch_scores(model, x, targets):
    scores = model(x)
    if targets is None:
        targets = scores.argmax(1)
    return scores.gather(1, torch.as_tensor(targets).reshape(-1, 1)).sum(), [int(t) for t in targets]


def torch_normalise(maps):
    """Min-max scaling of each map; a flat one (a class with no evidence: all zero after the ReLU) to 0."""
    low = maps.amin(dim=(1, 2), keepdim=True)
    span = maps.amax(dim=(1, 2), keepdim=True) - low
    return torch.where(span > 0, (maps - low) / span, torch.zeros_like(maps))


def torch_grad_cam(model, images, layer, targets=None):
    kept = []

    def keep(_module, _inputs, output):
        output.retain_grad()
        kept.append(output)

    handle = getattr(model, layer).register_forward_hook(keep)
    x = torch.from_numpy(images)
    score, targets = torch_scores(model, x, targets)
    handle.remove()
    score.backward()
    (activation,) = kept
    weights = activation.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activation).sum(1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)
    return torch_normalise(cam[:, 0]).detach().numpy(), targets


def torch_saliency(model, images, targets=None):
    x = torch.from_numpy(images).requires_grad_(True)
    score, targets = torch_scores(model, x, targets)
    score.backward()
    return torch_normalise(x.grad.abs().amax(1)).numpy(), targets


@pytest.mark.parametrize("layer", ["conv1", "conv2", "pool2"])
def test_grad_cam_is_pytorchs_by_hand_for_the_predicted_class(lenet, torch_lenet, layer):
    images = lenet.batch(IMAGES)
    got = grad_cam(lenet.model, images, layer)
    expected, targets = torch_grad_cam(torch_lenet, images.numpy(), layer)
    assert got.targets == tuple(targets)
    assert got.maps.dtype == np.float32 and got.maps.shape == (IMAGES, 32, 32)
    np.testing.assert_allclose(got.maps, expected, atol=1e-4)


def test_grad_cam_and_saliency_for_chosen_classes_are_pytorchs(lenet, torch_lenet):
    images = lenet.batch(IMAGES)
    targets = [(3 * i) % 10 for i in range(IMAGES)]
    cam = grad_cam(lenet.model, images, "conv2", target=targets)
    assert cam.targets == tuple(targets)
    np.testing.assert_allclose(cam.maps, torch_grad_cam(torch_lenet, images.numpy(), "conv2", targets)[0], atol=1e-4)
    one_class = saliency(lenet.model, images, target=7)
    assert one_class.targets == (7,) * IMAGES
    np.testing.assert_allclose(one_class.maps, torch_saliency(torch_lenet, images.numpy(), [7] * IMAGES)[0],
                               atol=1e-4)


def test_saliency_is_pytorchs_by_hand_for_the_predicted_class(lenet, torch_lenet):
    images = lenet.batch(IMAGES)
    got = saliency(lenet.model, images)
    expected, targets = torch_saliency(torch_lenet, images.numpy())
    assert got.targets == tuple(targets)
    assert got.maps.dtype == np.float32 and got.maps.shape == (IMAGES, 32, 32)
    np.testing.assert_allclose(got.maps, expected, atol=1e-4)


def top_quarter_mass(maps):
    """For each map, the share of its total held by its brightest quarter of pixels."""
    flat = np.sort(maps.reshape(len(maps), -1), axis=1)[:, ::-1]
    return flat[:, : flat.shape[1] // 4].sum(1) / flat.sum(1)


@pytest.mark.parametrize("explain", [lambda m, x: grad_cam(m, x, "conv2"), saliency], ids=["grad_cam", "saliency"])
def test_maps_span_zero_to_one_and_highlight_a_region(lenet, explain):
    maps = explain(lenet.model, lenet.batch(IMAGES)).maps
    assert np.allclose(maps.min(axis=(1, 2)), 0) and np.allclose(maps.max(axis=(1, 2)), 1)
    assert (maps.std(axis=(1, 2)) > 0.1).all()  # not a flat map
    share = top_quarter_mass(maps)  # a uniform map's brightest quarter holds 0.25 of it
    assert share.mean() > 0.4 and (share > 0.3).all()


def test_no_state_is_left_behind(lenet):
    model, images = lenet.model, lenet.batch(2)
    model.train()
    model.fc1.eval()
    grads = {name: None if i % 2 else engine.full_like(p, float(i)) for i, (name, p) in
             enumerate(model.named_parameters())}
    for name, p in model.named_parameters():
        p.grad = grads[name]
    try:
        grad_cam(model, images, "conv2")
        saliency(model, images)
        modes = {name: m.training for name, m in model.named_modules()}
        assert modes.pop("fc1") is False and all(modes.values())
        for name, p in model.named_parameters():
            if grads[name] is None:
                assert p.grad is None, name
            else:
                assert p.grad is grads[name] and (p.grad.numpy() == grads[name].numpy()).all(), name
        assert not any(m._forward_hooks for m in model.modules())
        assert not images.requires_grad
    finally:
        model.eval()
        for p in model.parameters():
            p.grad = None


def test_image_layers_are_those_with_image_shaped_outputs_in_running_order(lenet):
    assert ", ".join(image_layers(lenet.model, lenet.batch(1))) == IMAGE_LAYERS


def test_an_unknown_layer_is_refused_naming_the_layers_that_would_do(lenet):
    with pytest.raises(AttributionError, match=rf"no layer named 'conv9'; .*: {IMAGE_LAYERS}$"):
        grad_cam(lenet.model, lenet.batch(1), "conv9")


def test_a_layer_without_an_image_output_is_refused(lenet):
    with pytest.raises(AttributionError, match=rf"layer .fc1. has an output of shape \(1, 120\), .*: {IMAGE_LAYERS}$"):
        grad_cam(lenet.model, lenet.batch(1), "fc1")


@pytest.mark.parametrize("target, message", [(10, r"target 10 is not a class .* \(0 to 9\)"),
                                             (-1, r"target -1 is not a class"),
                                             ([1, 2, 3], r"expected one class per image \(2\), got 3"),
                                             ([1, 2.5], r"target 2.5 is not a class")])
def test_a_target_that_is_no_class_is_refused(lenet, target, message):
    with pytest.raises(AttributionError, match=message):
        saliency(lenet.model, lenet.batch(2), target)
    with pytest.raises(AttributionError, match=message):
        grad_cam(lenet.model, lenet.batch(2), "conv1", target)


def test_images_that_are_no_batch_are_refused(lenet):
    with pytest.raises(AttributionError, match=r"\(N, C, H, W\) tensor, got shape \(3, 32, 32\)"):
        saliency(lenet.model, lenet.batch(1)[0])


def test_normalise_scales_each_map_and_keeps_flat_maps_at_zero():
    maps = np.stack([np.full((2, 2), 5.0), np.array([[1.0, 3.0], [2.0, 5.0]])])
    np.testing.assert_array_equal(normalise(maps), [[[0, 0], [0, 0]], [[0, 0.5], [0.25, 1]]])


def test_overlay_paints_cold_blue_and_hot_red_over_the_image():
    image = np.full((2, 3, 3), 100, np.uint8)
    heat = np.array([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]])
    out = overlay(image, heat)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 3)
    # half grey 100, half jet: dark blue (0, 0, 0.5) at 0, green (0.5, 1, 0.5) at 0.5, dark red (0.5, 0, 0) at 1
    np.testing.assert_array_equal(out[0], [[50, 50, 114], [114, 178, 114], [114, 50, 50]])
    np.testing.assert_array_equal(overlay(image[:, :, 0], heat), out)  # a grey image alike
    with pytest.raises(ValueError, match=r"same size, got \(2, 3, 3\) and \(3, 2\)"):
        overlay(image, heat.T)
