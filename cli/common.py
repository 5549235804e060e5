"""What the sub-commands share: opening network and weight files, checking the device, and turning the
engine's exceptions for bad input into one clear line (``CliError``) instead of a traceback."""

import os
from contextlib import contextmanager, suppress


class CliError(Exception):
    """A problem with what the user gave: printed as one line, then any ``details`` indented, exit code 2."""

    def __init__(self, message, details=()):
        super().__init__(message)
        self.details = list(details)


def open_network(path):
    from engine.graph import NetworkFileError, load_network

    try:
        return load_network(path)
    except NetworkFileError as e:
        raise CliError(str(e)) from None


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
    """Missing or damaged datasets as ``CliError``: what was not found where, and how to get it."""
    from engine.graph import NetworkError
    from engine.vision.datasets import CorruptFileError, DatasetNotFoundError, default_root

    dataset = network.input_node().params["dataset"]
    try:
        yield
    except DatasetNotFoundError as e:
        root = os.path.abspath(data_dir or network.settings["data_dir"] or default_root())
        raise CliError(f"the {dataset} dataset was not found in {root}: pass --data DIR or --download",
                       str(e).splitlines()) from None
    except (CorruptFileError, NetworkError) as e:
        raise CliError(str(e)) from None
    except FileNotFoundError as e:  # an image folder without its train/ or test/ class folders
        raise CliError(f"the {dataset} dataset: {e}") from None


def weights_file(path):
    """A weight file to load: the path itself, or the final weights (else the checkpoint) of a run folder."""
    if not os.path.isdir(path):
        return path
    from engine.training import RunFileError, load_run

    try:
        run = load_run(path)
    except RunFileError as e:
        raise CliError(f"{path}: a folder, and {e.problem}") from None
    for candidate in (run.weights_path, run.checkpoint_path):  # a run cut short has a checkpoint only
        if os.path.isfile(candidate):
            return candidate
    raise CliError(f"{path}: the run has neither weights.safetensors nor checkpoint.llw")


def _checkpoint_model(path):
    """The model weights inside a training checkpoint (``checkpoint.llw``), or None for any other file."""
    from engine import serialization

    try:
        state = serialization.load(path, map_location="cpu")
    except (OSError, ValueError, RuntimeError):
        return None
    if isinstance(state, dict) and isinstance(state.get("model"), dict) and "optimizer" in state:
        return state["model"]
    return None


def read_weights(path):
    """``(file, {name: tensor})`` from a weight file ``engine.graph.export.load_weights`` reads, a training
    checkpoint, or a run folder."""
    from engine.graph.export import load_weights

    path = weights_file(path)
    try:
        return path, load_weights(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such weight file") from None
    except (OSError, ValueError, RuntimeError) as e:  # WeightFileError is a RuntimeError and names the file
        state = _checkpoint_model(path)
        if state is None:
            text = str(e)
            raise CliError(text if path in text else f"{path}: {text}") from None
        return path, state


def load_weights_into(model, weights, network_path):
    """Load ``weights`` (a file or a run folder) into ``model``; ``CliError`` when they do not fit."""
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


def class_names(network, weights, count):
    """Names of the model's ``count`` outputs: those the run folder of ``weights`` recorded, else the
    dataset's, else ``class N``."""
    from engine.graph import DATASETS
    from engine.training import RunFileError, load_run

    folder = weights if os.path.isdir(weights) else os.path.dirname(os.path.abspath(weights))
    candidates = []
    if os.path.isfile(os.path.join(folder, "run.json")):
        with suppress(RunFileError):  # a damaged record only costs the names
            candidates.append(load_run(folder).classes)
    candidates.append(DATASETS[network.input_node().params["dataset"]].classes)
    for classes in candidates:
        if len(classes) == count:
            return list(classes)
    return [f"class {i}" for i in range(count)]
