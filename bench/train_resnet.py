"""Training speed of the ResNet template (a small ResNet of four basic blocks, 152,026 parameters), or of another
template, against PyTorch.

    python bench/train_resnet.py [--seconds 6] [--batch 32 128 256] [--device cuda] [--template convnext_cifar10]

Both frameworks train the same class: the source the PyTorch exporter writes for the template, run once
with PyTorch and once with ``import engine as torch``. The recipe is the ResNet template's for every template
(SGD, Nesterov momentum 0.9, weight decay 5e-4, label smoothing 0.1), on random 3x32x32 data, same thread count, one
run, each framework in a process of its own (measured alternately, twice, the better kept); it prints images
per second for each and the ratio ours/PyTorch (above 1.0 means we are faster), and on the CPU each process's
peak memory (VmHWM) with what training added to it.
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import best_alternating, measured_training, run_child, training_speed
from train_lenet import framework


def model_source(template):
    """The template's model as the PyTorch exporter writes it (class ``Net``). Made in the parent process and
    handed to the measuring children as a file, so that PyTorch's child never imports the engine (its memory and
    its OpenMP settings stay PyTorch's own: ``engine.threads`` sets GOMP_SPINCOUNT when imported)."""
    from engine.graph.export.model_code import model_class_source
    from engine.graph.templates import load_template

    network = load_template(template)
    return model_class_source(network, network.infer(), "Net")


def build(m, source):
    scope = {"torch": m, "nn": m.nn}
    exec(source, scope)
    return scope["Net"]()


def train(m, source, batch, seconds, device):
    """Images per second over about ``seconds`` of training after a warm-up."""
    m.manual_seed(0)
    net = build(m, source).to(device)
    optimizer = m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return training_speed(m, net, m.nn.CrossEntropyLoss(label_smoothing=0.1), optimizer, batch, seconds, count=8,
                          warmup=3, device=device)


def measure(name, source_file, batch, seconds, device):
    """``measured_training``'s figures for ``name``'s framework in a fresh process of its own: each side alone in
    its process, so neither's OpenMP runtime (numba's and oneDNN's, or PyTorch's), threads' spinning or memory
    weigh on the other."""
    return run_child([sys.executable, __file__, "--framework", name, "--model", source_file, "--batch", str(batch),
                      "--seconds", str(seconds), "--device", device])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="timed training per framework and batch")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (CuPy for the engine, CUDA PyTorch)")
    parser.add_argument("--template", default="resnet_cifar10", help="the template to train (its key)")
    parser.add_argument("--framework", choices=("engine", "torch"), help=argparse.SUPPRESS)  # a measuring child
    parser.add_argument("--model", help=argparse.SUPPRESS)  # the child's model source file
    args = parser.parse_args()
    if args.framework is not None:
        m = framework(args.framework)
        source = pathlib.Path(args.model).read_text(encoding="utf-8")
        print(json.dumps(measured_training(args.framework,
                                           lambda: train(m, source, args.batch[0], args.seconds, args.device))))
        return
    from engine.graph.templates import list_templates
    from engine.threads import usable_cpus

    titles = {t.key: t.title for t in list_templates()}
    if args.template not in titles:
        parser.error(f"no template {args.template!r}; the templates are {', '.join(sorted(titles))}")

    print(f"threads: {usable_cpus()}; device {args.device}; {args.seconds:.0f} s of training per framework and "
          "batch after warm-up, each framework in a process of its own, alternately")
    with tempfile.TemporaryDirectory() as folder:
        source_file = os.path.join(folder, "net.py")
        pathlib.Path(source_file).write_text(model_source(args.template), encoding="utf-8")
        for batch in args.batch:
            best = best_alternating(measure, source_file, batch, args.seconds / 2, args.device)
            ours, theirs = best["engine"], best["torch"]
            print(f"{titles[args.template]}, batch {batch}: engine {ours['speed']:,.0f} img/s, torch "
                  f"{theirs['speed']:,.0f} img/s, ratio {ours['speed'] / theirs['speed']:.2f}x", flush=True)
            if args.device == "cpu":
                print(f"  peak memory: engine {ours['peak']:.0f} MiB (training added {ours['growth']:.0f}), torch "
                      f"{theirs['peak']:.0f} MiB (training added {theirs['growth']:.0f})", flush=True)


if __name__ == "__main__":
    main()
