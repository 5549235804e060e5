"""Training settings stored in the network document, described by the same ``ParamSpec`` as layer
parameters, so the GUI's form, the file's checks, the training recipe and the exported script come from one
list: ``applies`` says which optimizer or schedule an option is for. The dataset itself is the Input node's
``dataset`` parameter; these settings say how to train on it."""

from .params import ParamSpec, validate_params

OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop")
SCHEDULERS = ("none", "StepLR", "MultiStepLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau")
STEP_SCHEDULERS = ("OneCycleLR",)  # step after every batch; the others after every epoch
CROPS = ("pad and crop", "resized crop")
POLICIES = ("none", "AutoAugment CIFAR-10", "RandAugment", "TrivialAugmentWide")


SETTINGS_GROUPS = {
    "Data": (
        ParamSpec("data_dir", "text", "", help="folder with the dataset; empty: $LAYERLAB_DATA or the cache"),
        ParamSpec("val_split", "float", 0.1, minimum=0.0, maximum=0.9,
                  help="fraction of the training images held out for validation"),
        ParamSpec("train_limit", "int", 0, minimum=0, maximum=1 << 30,
                  help="train on the first N images only (0: all)"),
        ParamSpec("normalize", "bool", True, help="subtract the dataset mean, divide by its std"),
        ParamSpec("num_workers", "int", 0, minimum=0, maximum=64),
        ParamSpec("skip_bad_samples", "bool", False,
                  help="skip unreadable images of an image folder (counted in the run) instead of stopping"),
    ),
    # in the order the training pipeline applies them (``datasets.transform_calls``); all off by default
    "Augmentation": (
        ParamSpec("augment_crop", "choice", "pad and crop", choices=CROPS,
                  help="random crop: of the image reflect-padded, or of a random area resized to the input's size"),
        ParamSpec("augment_crop_padding", "int", 0, minimum=0, maximum=16,
                  help="random crop after reflect-padding by this many pixels (0: off)",
                  applies=("augment_crop", ("pad and crop",))),
        ParamSpec("augment_crop_scale", "float", 0.35, minimum=0.05, maximum=1.0,
                  help="smallest share of the image's area a resized crop keeps",
                  applies=("augment_crop", ("resized crop",))),
        ParamSpec("augment_hflip", "bool", False, help="random horizontal flips"),
        ParamSpec("augment_rotation", "float", 0.0, minimum=0.0, maximum=180.0,
                  help="random rotation by up to this many degrees either way (0: off)"),
        ParamSpec("augment_policy", "choice", "none", choices=POLICIES,
                  help="an automatic augmentation policy: AutoAugment's learned CIFAR-10 policy, or random "
                       "operations (RandAugment: two at magnitude 9; TrivialAugmentWide: one at a random one)"),
        ParamSpec("augment_color_jitter", "float", 0.0, minimum=0.0, maximum=1.0,
                  help="random brightness, contrast and saturation changes of up to this factor (0: off)"),
        ParamSpec("augment_grayscale", "float", 0.0, minimum=0.0, maximum=1.0,
                  help="probability of turning an image gray (0: off)"),
        ParamSpec("augment_blur", "bool", False, help="Gaussian blur (3×3, σ drawn between 0.1 and 2) of every image"),
        ParamSpec("augment_erasing", "float", 0.0, minimum=0.0, maximum=1.0,
                  help="probability of erasing a random rectangle of the normalised tensor (0: off)"),
    ),
    "Optimiser": (
        ParamSpec("optimizer", "choice", "SGD", choices=OPTIMIZERS),
        ParamSpec("lr", "float", 0.01, minimum=1e-8, maximum=10.0, help="learning rate"),
        ParamSpec("momentum", "float", 0.9, minimum=0.0, maximum=0.9999, applies=("optimizer", ("SGD", "RMSprop"))),
        ParamSpec("nesterov", "bool", False, applies=("optimizer", ("SGD",))),
        ParamSpec("weight_decay", "float", 0.0, minimum=0.0, maximum=1.0),
        ParamSpec("beta1", "float", 0.9, minimum=0.0, maximum=0.9999, applies=("optimizer", ("Adam", "AdamW"))),
        ParamSpec("beta2", "float", 0.999, minimum=0.0, maximum=0.99999, applies=("optimizer", ("Adam", "AdamW"))),
    ),
    "Schedule": (
        ParamSpec("scheduler", "choice", "none", choices=SCHEDULERS),
        ParamSpec("step_size", "int", 10, minimum=1, maximum=1 << 20, help="epochs between decays",
                  applies=("scheduler", ("StepLR",))),
        ParamSpec("milestones", "ints", (), minimum=1, maximum=1 << 20, help="epochs of decay",
                  applies=("scheduler", ("MultiStepLR",))),
        ParamSpec("gamma", "float", 0.1, minimum=0.0, maximum=1.0, help="decay factor",
                  applies=("scheduler", ("StepLR", "MultiStepLR", "ReduceLROnPlateau"))),
        ParamSpec("warmup_fraction", "float", 0.15, minimum=0.0, maximum=1.0,
                  help="fraction of steps spent warming up", applies=("scheduler", ("OneCycleLR",))),
        ParamSpec("patience", "int", 3, minimum=0, maximum=1000, help="epochs to wait",
                  applies=("scheduler", ("ReduceLROnPlateau",))),
    ),
    "Run": (
        ParamSpec("batch_size", "int", 64, minimum=1, maximum=65536),
        ParamSpec("epochs", "int", 2, minimum=1, maximum=100000),
        ParamSpec("device", "choice", "cpu", choices=("cpu", "cuda")),
        ParamSpec("seed", "int", 0, minimum=0, maximum=2**31 - 1),
        ParamSpec("processes", "int", 1, minimum=1, maximum=1024,
                  help="train data-parallel in this many processes of this machine (MPI), each with its share of "
                       "the CPUs and of every batch: the same result as one process"),
        ParamSpec("clip_grad_norm", "float", 0.0, minimum=0.0, maximum=1e6,
                  help="before each update, scale the gradients down to this total norm at most (0: off)"),
        ParamSpec("health_every", "int", 10, minimum=0, maximum=1 << 20,
                  help="measure every layer's health (norms, update ratio, activations) every N steps, or less often "
                       "where that would take over 2% of the training time; 0: off"),
    ),
}

SETTINGS_SPECS = {spec.name: spec for group in SETTINGS_GROUPS.values() for spec in group}


def default_settings():
    return {name: spec.default for name, spec in SETTINGS_SPECS.items()}


def validate_settings(values):
    """Complete, normal-form settings; unknown keys and bad values raise ``ValueError``."""
    return validate_params(SETTINGS_SPECS, values)


def optimizer_options(settings):
    """Keyword arguments of ``torch.optim.<settings["optimizer"]>``: the optimiser settings that apply to it
    (``beta1`` and ``beta2`` as ``betas``)."""
    options = {spec.name: settings[spec.name] for spec in SETTINGS_GROUPS["Optimiser"]
               if spec.name != "optimizer" and spec.applies_to(settings)}
    if "beta1" in options:
        options["betas"] = (options.pop("beta1"), options.pop("beta2"))
    return options


def loader_options(settings, train):
    """Keyword arguments of the ``DataLoader`` for training (shuffled) or evaluation (batches of 256 at least)."""
    return {"batch_size": settings["batch_size"] if train else max(256, settings["batch_size"]), "shuffle": train,
            "num_workers": settings["num_workers"]}


class RunLength(str):
    """An expression in the exported script's ``epochs`` and ``steps_per_epoch``: ``scheduler_call`` computes
    with it as with the numbers, and the exporter writes it as code."""

    def __mul__(self, other):
        return RunLength(f"{self} * {other!r}")

    __rmul__ = __mul__

    def __repr__(self):
        return str(self)


def _at_least(low, value):
    return RunLength(f"max({low!r}, {value!r})") if isinstance(value, RunLength) else max(low, value)


# the settings' scheduler -> the keyword arguments of ``lr_scheduler.<scheduler>`` for the settings and the run's
# length (``epochs``, ``steps_per_epoch``: numbers, or ``RunLength`` names when the exporter writes the call)
_SCHEDULER_OPTIONS = {
    "StepLR": lambda s, epochs, steps_per_epoch: {"step_size": s["step_size"], "gamma": s["gamma"]},
    "MultiStepLR": lambda s, epochs, steps_per_epoch: {"milestones": list(s["milestones"]), "gamma": s["gamma"]},
    "CosineAnnealingLR": lambda s, epochs, steps_per_epoch: {"T_max": epochs},
    "OneCycleLR": lambda s, epochs, steps_per_epoch: {
        "max_lr": s["lr"], "total_steps": _at_least(2, epochs * steps_per_epoch), "pct_start": s["warmup_fraction"]},
    "ReduceLROnPlateau": lambda s, epochs, steps_per_epoch: {"factor": s["gamma"] or 0.1, "patience": s["patience"]},
}


def scheduler_call(settings, steps_per_epoch, epochs):
    """``(class name in lr_scheduler, its keyword arguments after the optimizer, 'epoch' or 'step')`` of the
    settings' schedule over ``epochs`` of ``steps_per_epoch`` steps; ``(None, {}, 'epoch')`` without one."""
    name = settings["scheduler"]
    interval = "step" if name in STEP_SCHEDULERS else "epoch"
    if name == "none":
        return None, {}, interval
    return name, _SCHEDULER_OPTIONS[name](settings, epochs, steps_per_epoch), interval
