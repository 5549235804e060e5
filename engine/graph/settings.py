"""Training settings stored in the network document, described by the same ``ParamSpec`` as layer
parameters, so the GUI's form and the file's checks come from one list. The dataset itself is the Input
node's ``dataset`` parameter; these settings say how to train on it."""

from .params import ParamSpec, validate_params

OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop")
SCHEDULERS = ("none", "StepLR", "MultiStepLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau")

SETTINGS_GROUPS = {
    "Data": (
        ParamSpec("data_dir", "text", "", help="folder with the dataset; empty: $LAYERLAB_DATA or the cache"),
        ParamSpec("val_split", "float", 0.1, minimum=0.0, maximum=0.9,
                  help="fraction of the training images held out for validation"),
        ParamSpec("train_limit", "int", 0, minimum=0, maximum=1 << 30,
                  help="train on the first N images only (0: all)"),
        ParamSpec("augment_crop_padding", "int", 0, minimum=0, maximum=16,
                  help="random crop after reflect-padding by this many pixels (0: off)"),
        ParamSpec("augment_hflip", "bool", False, help="random horizontal flips"),
        ParamSpec("normalize", "bool", True, help="subtract the dataset mean, divide by its std"),
        ParamSpec("num_workers", "int", 0, minimum=0, maximum=64),
    ),
    "Optimiser": (
        ParamSpec("optimizer", "choice", "SGD", choices=OPTIMIZERS),
        ParamSpec("lr", "float", 0.01, minimum=1e-8, maximum=10.0, help="learning rate"),
        ParamSpec("momentum", "float", 0.9, minimum=0.0, maximum=0.9999, help="SGD and RMSprop"),
        ParamSpec("nesterov", "bool", False, help="SGD only"),
        ParamSpec("weight_decay", "float", 0.0, minimum=0.0, maximum=1.0),
        ParamSpec("beta1", "float", 0.9, minimum=0.0, maximum=0.9999, help="Adam and AdamW"),
        ParamSpec("beta2", "float", 0.999, minimum=0.0, maximum=0.99999, help="Adam and AdamW"),
    ),
    "Schedule": (
        ParamSpec("scheduler", "choice", "none", choices=SCHEDULERS),
        ParamSpec("step_size", "int", 10, minimum=1, maximum=1 << 20, help="StepLR: epochs between decays"),
        ParamSpec("milestones", "ints", (), minimum=1, maximum=1 << 20, help="MultiStepLR: epochs of decay"),
        ParamSpec("gamma", "float", 0.1, minimum=0.0, maximum=1.0, help="decay factor"),
        ParamSpec("warmup_fraction", "float", 0.15, minimum=0.0, maximum=1.0,
                  help="OneCycleLR: fraction of steps spent warming up"),
        ParamSpec("patience", "int", 3, minimum=0, maximum=1000, help="ReduceLROnPlateau: epochs to wait"),
    ),
    "Run": (
        ParamSpec("batch_size", "int", 64, minimum=1, maximum=65536),
        ParamSpec("epochs", "int", 2, minimum=1, maximum=100000),
        ParamSpec("device", "choice", "cpu", choices=("cpu", "cuda")),
        ParamSpec("seed", "int", 0, minimum=0, maximum=2**31 - 1),
    ),
}

SETTINGS_SPECS = {spec.name: spec for group in SETTINGS_GROUPS.values() for spec in group}


def default_settings():
    return {name: spec.default for name, spec in SETTINGS_SPECS.items()}


def validate_settings(values):
    """Complete, normal-form settings; unknown keys and bad values raise ``ValueError``."""
    return validate_params(SETTINGS_SPECS, values)
