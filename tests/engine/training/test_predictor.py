"""``engine.training.predictor``: a trained model from a run folder (its final weights, or the checkpoint of a
run cut short) and the probabilities it gives images, equal to the model's own forward pass."""

import zlib

import numpy as np
import pytest
from trained_runs import cut_short_run, noise_image

import engine
from engine.graph import DATASETS
from engine.graph.templates import load_template
from engine.training import RunFileError, create_run
from engine.training.predictor import load_image, load_trained, read_weights
from engine.training.recipe import eval_transform

CLASSES = DATASETS["Fashion-MNIST"].classes


def test_a_run_cut_short_predicts_from_its_checkpoint_as_the_model_does(tmp_path):
    run, model = cut_short_run(tmp_path / "run")
    predictor = load_trained(run.folder)
    assert predictor.source == f"run {run.name} (from its checkpoint)" and predictor.classes == tuple(CLASSES)
    images = [noise_image(seed=s) for s in range(3)]
    model.eval()
    with engine.no_grad():
        expected = model(engine.stack([eval_transform(predictor.network)(im) for im in images])).softmax(1).numpy()
    np.testing.assert_array_equal(predictor.probabilities(images), expected)
    top = predictor.top(images, k=3)
    for row, probabilities in zip(top, expected):
        order = np.argsort(-probabilities, kind="stable")[:3]
        assert row == [(CLASSES[i], float(probabilities[i])) for i in order]


def test_the_final_weights_come_before_the_checkpoint(tmp_path):
    run, _ = cut_short_run(tmp_path / "run")
    _, final = cut_short_run(tmp_path / "other", seed=2)
    run.save_weights(final)
    predictor = load_trained(run.folder)
    assert predictor.source == f"run {run.name}"
    for key, value in final.state_dict().items():
        np.testing.assert_array_equal(predictor.model.state_dict()[key].numpy(), value.numpy())
    assert read_weights(run.folder)[0] == run.weights_path


def test_a_run_without_weights_or_checkpoint(tmp_path):
    run = create_run(load_template("mlp_fashion_mnist"), folder=tmp_path / "run")
    with pytest.raises(RunFileError, match="the run has neither weights.safetensors nor checkpoint.llw"):
        load_trained(run.folder)


def test_images_are_read_as_the_input_takes_them(tmp_path):
    network = load_template("mlp_fashion_mnist")
    path = tmp_path / "big.png"
    noise_image((56, 40), "RGB").save(path)
    image = load_image(path, network)
    assert image.mode == "L" and image.size == (28, 28)
    with pytest.raises(ValueError, match="absent.png: cannot read the file: No such file"):
        load_image(tmp_path / "absent.png", network)
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(ValueError, match=r"notes.png: cannot read the image"):
        load_image(tmp_path / "notes.png", network)


def test_a_decompression_bomb_or_a_truncated_image_is_a_value_error_naming_it(tmp_path):
    network = load_template("mlp_fashion_mnist")
    bomb = tmp_path / "bomb.png"
    noise_image((4, 4), "RGB").save(bomb)
    data = bytearray(bomb.read_bytes())
    data[16:24] = (1 << 30).to_bytes(4, "big") * 2  # the header claims 2**60 pixels (with its checksum right)
    data[29:33] = zlib.crc32(data[12:29]).to_bytes(4, "big")
    bomb.write_bytes(data)
    with pytest.raises(ValueError, match=r"bomb.png: the image is too large to open"):
        load_image(bomb, network)
    path = tmp_path / "cut.png"
    noise_image((56, 40), "RGB").save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"cut.png: cannot read the image .*truncated"):
        load_image(path, network)
