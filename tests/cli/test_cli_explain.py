"""``main.py predict --gradcam NODE / --saliency --heatmaps DIR``: a picture per image of where the prediction
looked, the maps of ``engine.training.attribution`` over the image; and the refusals, each one line."""

import numpy as np
import pytest
from cli_helpers import copy_template
from PIL import Image
from trained_lenet import needs_cifar, trained_lenet

from engine.graph.export import export_network
from engine.training.attribution import grad_cam, overlay, saliency
from engine.training.predictor import load_image

pytestmark = needs_cifar
LAYERS = "conv1, relu1, pool1, conv2, relu2, pool2"


@pytest.fixture(scope="module")
def lenet_files(tmp_path_factory):
    """(network file, weight file, two CIFAR-10 test images as PNG files) of the briefly trained LeNet."""
    lenet = trained_lenet()
    folder = tmp_path_factory.mktemp("explain")
    net = copy_template("lenet_cifar10", folder)
    (weights,) = export_network(lenet.network, lenet.model.state_dict(), "safetensors", folder / "weights")
    images = []
    for i, name in enumerate(["first", "second"]):
        images.append(folder / f"{name}.png")
        lenet.test[i][0].save(images[-1])
    return net, weights, images


def expected_picture(lenet, path, method):
    """The heatmap picture of the image at ``path`` as computed here: the map over the image, 4× enlarged."""
    image = load_image(path, lenet.network)
    batch = lenet.transform(image).unsqueeze(0)
    maps = (grad_cam(lenet.model, batch, "conv2") if method == "gradcam" else saliency(lenet.model, batch)).maps
    return overlay(np.asarray(image), maps[0]).repeat(4, 0).repeat(4, 1)


def test_gradcam_and_saliency_pictures_are_written_per_image_for_the_predicted_class(cli, lenet_files, tmp_path):
    net, weights, images = lenet_files
    out_dir = tmp_path / "maps"
    result = cli("predict", net, weights, *images, "--top", 1, "--gradcam", "conv2", "--saliency",
                 "--heatmaps", out_dir)
    assert result.code == 0, result
    lines = result.out.splitlines()
    lenet = trained_lenet()
    for k, path in enumerate(images):
        block = lines[4 * k: 4 * k + 4]
        assert block[0] == str(path)
        predicted = block[1].split("%  ")[1]
        cam_file, saliency_file = out_dir / f"{path.stem}.gradcam-conv2.png", out_dir / f"{path.stem}.saliency.png"
        assert block[2:] == [f"  Grad-CAM at conv2 for {predicted}: {cam_file}",
                             f"  saliency for {predicted}: {saliency_file}"]
        for file, method in ((cam_file, "gradcam"), (saliency_file, "saliency")):
            picture = np.asarray(Image.open(file))
            assert picture.shape == (128, 128, 3)
            np.testing.assert_array_equal(picture, expected_picture(lenet, path, method))


@pytest.mark.parametrize("node, message", [
    ("conv9", f"--gradcam conv9: no layer named 'conv9'; layers with image-shaped outputs: {LAYERS}"),
    ("fc1", f"--gradcam fc1: layer 'fc1' has an output of shape (2, 120), not one image-shaped (N, K, h, w) "
            f"output; Grad-CAM works at: {LAYERS}"),
])
def test_a_node_without_a_grad_cam_is_refused_naming_it_and_those_that_have_one(cli, lenet_files, tmp_path, node,
                                                                                message):
    net, weights, images = lenet_files
    result = cli("predict", net, weights, *images, "--gradcam", node, "--heatmaps", tmp_path / "maps")
    assert result.code == 2 and result.out == "", result
    assert message in result.err and "Traceback" not in result.err
    assert not (tmp_path / "maps").exists()


@pytest.mark.parametrize("options", [["--gradcam", "conv2"], ["--saliency"], ["--heatmaps", "maps"]])
def test_heatmap_options_come_with_their_folder_and_a_method(cli, lenet_files, options):
    net, weights, images = lenet_files
    result = cli("predict", net, weights, images[0], *options)
    assert result.code == 2 and "give both or neither" in result.err, result


def test_images_with_the_same_name_are_refused_rather_than_overwritten(cli, lenet_files, tmp_path):
    net, weights, images = lenet_files
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / images[0].name
    twin.write_bytes(images[0].read_bytes())
    result = cli("predict", net, weights, images[0], twin, "--saliency", "--heatmaps", tmp_path / "maps")
    assert result.code == 2 and "images with the same name would share their heatmap files" in result.err, result
    assert "first" in result.err
