"""Run folders with a trained model in them, for the prediction tests of the engine, the GUI and the command
line (``tests/`` is on the path through its conftest)."""

import numpy as np
from PIL import Image

import engine
from engine.graph.templates import load_template
from engine.training import Trainer, create_run


def cut_short_run(folder, seed=1):
    """A run of the MLP template that left a checkpoint but no final weights; and the model it holds."""
    network = load_template("mlp_fashion_mnist")
    run = create_run(network, folder=folder)
    engine.manual_seed(seed)
    model = network.build()
    Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), None, None).save_checkpoint(run.checkpoint_path)
    return run, model


def noise_image(size=(28, 28), mode="L", seed=0):
    """A PIL image of random pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), np.uint8)
    return Image.fromarray(pixels).convert(mode)
