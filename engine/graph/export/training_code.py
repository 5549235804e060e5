"""The training part of the engine code export: data, transforms, loaders, loss, optimizer and schedule
written out as a plain script, from the same descriptions the app's training recipe (``engine.training.recipe``)
builds from: ``transform_calls``, ``optimizer_options``, ``loader_options``, ``scheduler_call`` (a test checks
that the schedule's learning rates follow the recipe's step by step).
"""

from string import Template

from ..build import loss_call
from ..catalogue import ModuleCall
from ..datasets import DATASETS, EnumMember, map_values, transform_calls
from ..settings import RunLength, loader_options, optimizer_options, scheduler_call
from .errors import ExportError
from .model_code import format_call


class _Code(str):
    """Source text that a call's arguments are written as, unquoted (``repr`` gives the text itself)."""

    def __repr__(self):
        return str(self)


def _as_code(value):
    """An enum member of the transforms as code (``T.AutoAugmentPolicy.CIFAR10``; its ``repr`` is not code)."""
    return _Code(f"T.{value.enum}.{value.name}") if isinstance(value, EnumMember) else value


def _compose(network, train, indent):
    steps = "".join(f"\n{indent}    {format_call(map_values(call, _as_code), 'T.')},"
                    for call in transform_calls(network, train))
    return f"T.Compose([{steps}\n{indent}])"


def _datasets(network):
    info = DATASETS[network.input_node().params["dataset"]]
    if info.vision_class == "ImageFolder":
        return ('datasets.ImageFolder(os.path.join(root, "train"))', 'datasets.ImageFolder(os.path.join(root, "test"))',
                'required=True, help="folder with train/ and test/ sub-folders of one folder per class"')
    cls = f"datasets.{info.vision_class}"
    data_dir = network.settings["data_dir"] or None
    return (f"{cls}(root, train=True, download=download)", f"{cls}(root, train=False, download=download)",
            f'default={data_dir!r}, help="dataset folder (default: $LAYERLAB_DATA or the cache)"')


def _split(settings):
    if settings["val_split"] == 0:
        return ("    val = test  # no validation split: the test set serves as the validation set\n"
                "    indices = np.arange(len(full_train))\n")
    return (f"    # a seeded share of the training images is held out for validation, seen without augmentation\n"
            f"    order = np.random.default_rng({settings['seed']!r}).permutation(len(full_train))\n"
            f"    n_val = max(1, round({settings['val_split']!r} * len(full_train)))\n"
            f"    val = copy.copy(full_train)\n"
            f"    val.transform = transforms(train=False)\n"
            f"    val = Subset(val, sorted(order[:n_val].tolist()))\n"
            f"    indices = np.sort(order[n_val:])\n")


def _schedule(network):
    """Source of the schedule: (make_scheduler function, its call in main, the step after each batch, the step
    after each epoch); all empty without a schedule."""
    name, options, interval = scheduler_call(network.settings, RunLength("steps_per_epoch"), RunLength("epochs"))
    if name is None:
        return "", "", "", ""
    function = (f"def make_scheduler(optimizer, epochs, steps_per_epoch):\n"
                f"    return {format_call(ModuleCall(name, (), options), 'torch.optim.lr_scheduler.', ('optimizer',))}"
                f"\n\n\n")
    call = "\n    scheduler = make_scheduler(optimizer, args.epochs, len(train_loader))"
    step = "scheduler.step(val_loss)" if name == "ReduceLROnPlateau" else "scheduler.step()"
    if interval == "step":
        return function, call, f"\n            {step}", ""
    return function, call, "", f"\n        {step}"


def _clip(settings):
    """The gradient clipping before each update (``clip_grad_norm`` above 0), as the Trainer clips."""
    if not settings["clip_grad_norm"]:
        return ""
    return f"\n            torch.nn.utils.clip_grad_norm_(model.parameters(), {settings['clip_grad_norm']!r})"


def training_source(network, cls_name, trained_file):
    """Functions and ``main`` of the training script (appended to the model class by ``code.generate_code``)."""

    settings = network.settings
    images = network.input_node()
    if len(images.params["shape"]) != 3:
        raise ExportError(f"{images.label()}: the engine script trains on images (C×H×W), but the input is "
                          f"{images.layer_type.params['shape'].format(images.params['shape'])}; export PyTorch code "
                          "for the model alone")
    make_scheduler, make_scheduler_call, batch_step, epoch_step = _schedule(network)
    open_train, open_test, data_arg = _datasets(network)
    train_loader, eval_loader = loader_options(settings, True), loader_options(settings, False)
    return Template(_TRAINING).substitute(
        train_transforms=_compose(network, True, " " * 8),
        eval_transforms=_compose(network, False, " " * 4),
        open_train=open_train, open_test=open_test, split=_split(settings),
        optimizer=format_call(ModuleCall(settings["optimizer"], (), optimizer_options(settings)), "torch.optim.",
                              ("model.parameters()",)),
        make_scheduler=make_scheduler, make_scheduler_call=make_scheduler_call, batch_step=batch_step,
        epoch_step=epoch_step, clip=_clip(settings),
        loss=format_call(loss_call(network), "nn."), data_arg=data_arg, cls=cls_name,
        title=repr(network.title), epochs=settings["epochs"], limit=settings["train_limit"],
        device=repr(settings["device"]), seed=settings["seed"], trained=repr(trained_file),
        train_batch=train_loader["batch_size"], eval_batch=eval_loader["batch_size"],
        workers=train_loader["num_workers"],
        val_name="test" if settings["val_split"] == 0 else "validation")


_TRAINING = '''def transforms(train):
    """The transforms LayerLab applies to training images (train=True) or to evaluation images."""
    if train:
        return $train_transforms
    return $eval_transforms


def load_data(root, download=False, limit=0):
    """Training, validation and test sets, split as LayerLab splits them; limit: first N training images."""
    full_train = $open_train
    test = $open_test
    test.transform = transforms(train=False)
    train = copy.copy(full_train)
    train.transform = transforms(train=True)
$split    if limit:
        indices = indices[:limit]
    if len(indices) < len(full_train):
        train = Subset(train, indices.tolist())
    return train, val, test


def make_optimizer(model):
    return $optimizer


${make_scheduler}def evaluate(model, loader, loss_fn, device):
    """Mean loss and accuracy of the model on a loader, in evaluation mode."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total_loss += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax(1) == labels).sum().item()
            count += len(labels)
    return total_loss / max(count, 1), correct / max(count, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train " + $title + " with LayerLab's engine.")
    parser.add_argument("--data", $data_arg)
    parser.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    parser.add_argument("--epochs", type=int, default=$epochs)
    parser.add_argument("--limit", type=int, default=$limit, help="train on the first N images only (0: all)")
    parser.add_argument("--device", default=$device, help="cpu or cuda")
    parser.add_argument("--weights", default=WEIGHTS, help="weights to start from ('': freshly initialised)")
    parser.add_argument("--out", default=os.path.join(HERE, $trained),
                        help="where to save the trained weights")
    args = parser.parse_args(argv)

    torch.manual_seed($seed)
    device = torch.device(args.device)
    model = $cls()
    if args.weights:
        model.load_state_dict(torch.load_safetensors(args.weights))
    model.to(device)
    train_set, val_set, test_set = load_data(args.data, args.download, args.limit)
    train_loader = DataLoader(train_set, batch_size=$train_batch, shuffle=True, num_workers=$workers)
    val_loader = DataLoader(val_set, batch_size=$eval_batch, num_workers=$workers)
    test_loader = DataLoader(test_set, batch_size=$eval_batch, num_workers=$workers)
    loss_fn = $loss
    optimizer = make_optimizer(model)$make_scheduler_call

    for epoch in range(args.epochs):
        model.train()
        total_loss, count = 0.0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()$clip
            optimizer.step()$batch_step
            total_loss += loss.item() * len(labels)
            count += len(labels)
        val_loss, val_accuracy = evaluate(model, val_loader, loss_fn, device)$epoch_step
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total_loss / max(count, 1):.4f}, "
              f"$val_name loss {val_loss:.4f}, $val_name accuracy {val_accuracy:.2%}")

    test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, device)
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
    torch.save_safetensors(model.state_dict(), args.out)
    print(f"saved the trained weights to {args.out}")


if __name__ == "__main__":
    main()
'''
