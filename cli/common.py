"""What the sub-commands share: opening network and weight files, checking the device, and turning the
engine's exceptions for bad input into one clear line (``CliError``) instead of a traceback. Files that cannot
be used raise their ``FileError`` (or ``OSError``), which ``cli.main`` prints the same way."""

import argparse
import os
from contextlib import contextmanager


class CliError(Exception):
    """A problem with what the user gave: printed as one line, then any ``details`` indented, exit code 2."""

    def __init__(self, message, details=()):
        super().__init__(message)
        self.details = list(details)


def positive_int(text):
    """An argparse type: a whole number of at least 1 (``--limit 0`` would evaluate nothing and report nan)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def open_network(path):
    """The network in ``path``; its ``NetworkFileError`` names the file and what is wrong."""
    from engine.graph import load_network

    return load_network(path)


def require_valid(network, path, action):
    """The network's inference; ``CliError`` listing its errors when it cannot be built."""
    inference = network.infer()
    errors = inference.errors
    if errors:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        raise CliError(f"{path}: cannot {action} the network '{network.title}': it has {count}",
                       [p.message for p in errors])
    return inference


def apply_settings(network, changes):
    """Override training settings from options that were given (those left as None are skipped)."""
    from engine.graph import NetworkError

    changes = {k: v for k, v in changes.items() if v is not None}
    try:
        network.set_settings(changes)
    except NetworkError as e:
        raise CliError(str(e)) from None


def resolve_device(network, requested):
    """The device to use: ``--device`` or the document's setting; ``CliError`` when CUDA is asked for but absent."""
    import engine

    device = requested or network.settings["device"]
    if device == "cuda" and not engine.cuda.is_available():
        raise CliError("the device 'cuda' is not available on this machine (no GPU or no CuPy); use --device cpu")
    return device


@contextmanager
def data_errors(network, data_dir):
    """A missing dataset as ``CliError``: what was not found where, and how to get it (a damaged file raises its
    ``CorruptFileError``, a ``FileError`` naming it)."""
    from engine.graph import NetworkError
    from engine.vision.datasets import DatasetNotFoundError, default_root

    dataset = network.input_node().params["dataset"]
    try:
        yield
    except DatasetNotFoundError as e:
        root = os.path.abspath(data_dir or network.settings["data_dir"] or default_root())
        raise CliError(f"the {dataset} dataset was not found in {root}: pass --data DIR or --download",
                       str(e).splitlines()) from None
    except NetworkError as e:
        raise CliError(str(e)) from None
    except FileNotFoundError as e:  # an image folder without its train/ or test/ class folders
        raise CliError(f"the {dataset} dataset: {e}") from None


def load_weights_into(model, weights, network_path):
    """Load ``weights`` (a weight file, a training checkpoint, or a run folder: its final weights, else its
    checkpoint) into ``model``; ``CliError`` when they do not fit. A file that cannot be read raises its
    ``FileError`` (``WeightFileError``, ``RunFileError``) or ``FileNotFoundError``, naming it."""
    from engine.training.predictor import read_weights

    path, state = read_weights(weights)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first, *rest = error_lines(e)
        raise CliError(f"{path}: the weights do not match the network {network_path}: {first}", rest) from None
    return path


def error_lines(error):
    """The problems ``load_state_dict`` lists under its first line (or the message itself)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[1:] if len(lines) > 1 else lines or [type(error).__name__]


def fresh_model(network, device="cpu"):
    """The module of ``network`` with the initial weights its seed gives (as training starts from)."""
    import engine

    engine.manual_seed(network.settings["seed"])
    return network.build().to(device)


