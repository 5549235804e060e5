"""Real run folders for tests of the runs' table and views, made quickly: a tiny model (not the document's)
trained on separable blobs through the run's own callbacks."""

from pathlib import Path

import numpy as np

import engine
import engine.nn as nn
from engine.graph import network_from_json, network_to_json, save_network
from engine.graph.templates import load_template
from engine.training import Trainer, create_run


def blobs(n=48, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = (np.eye(3, 4)[labels] * 3 + rng.standard_normal((n, 4))).astype(np.float32)
    return [(engine.tensor(x[i:i + batch]), engine.tensor(labels[i:i + batch])) for i in range(0, n, batch)]


def train_run(network, net_path, epochs=3, test_accuracy=0.5, health=None, **settings):
    """A finished run folder of ``network`` (at ``net_path``) with ``settings`` changed, the model initialised and
    the data shuffled by its ``seed`` setting; ``health``: a ``HealthMonitor`` to fill ``health.csv``."""
    document = network_from_json(network_to_json(network))
    document.set_settings({"epochs": epochs, **settings})
    run = create_run(document, network_path=net_path)
    engine.manual_seed(document.settings["seed"])
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = engine.optim.SGD(model.parameters(), lr=document.settings["lr"])
    Trainer(model, optimizer, nn.CrossEntropyLoss(), blobs(), blobs(seed=1), callbacks=run.callbacks(),
            seed=document.settings["seed"], num_classes=3, health=health).fit(epochs)
    run.finish(test_accuracy=test_accuracy)
    return run


def saved_network(folder, template="lenet_cifar10"):
    """``(document, path)``: the template saved as ``folder/<template>.llnet``, its runs to go beside it."""
    document = load_template(template)
    path = Path(folder) / f"{template}.llnet"
    save_network(document, path)
    return document, path
