"""What recording the layers' health costs on the command line: ``main.py train`` with health on (the
document's default, every 10 steps within the 2 % time budget) and with ``--no-health``, alternately, in fresh
processes, for the LeNet template (batch 4, as the template trains) and the ResNet template (batch 128).

    python bench/health_cost.py [--rounds 3] [--data /work/shared/data/cifar10]

Prints the images/s each run records in its run.json (training steps only: data loading and evaluation are left
out), the best of each side and the ratio on/off; the target is at least 0.95.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = (("lenet_cifar10", 4, 4000), ("resnet_cifar10", 128, 6400))  # template, batch, training images


def train(template, batch, images, data, out, health):
    command = [sys.executable, os.path.join(REPO, "main.py"), "train",
               os.path.join(REPO, "resources", "templates", f"{template}.llnet"), "--data", data, "--epochs", "1",
               "--batch-size", str(batch), "--limit", str(images), "--out", out]
    if not health:
        command.append("--no-health")
    subprocess.run(command, check=True, capture_output=True, text=True)
    with open(os.path.join(out, "run.json")) as f:
        speed = json.load(f)["images_per_second"]
    rows = 0
    if health:
        with open(os.path.join(out, "health.csv")) as f:
            rows = sum(1 for _ in f) - 1
    return speed, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating off/on rounds per network")
    parser.add_argument("--data", default="/work/shared/data/cifar10", help="folder holding cifar-10-batches-py")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="layerlab-bench-health-")
    for template, batch, images in CASES:
        best_off = best_on = 0.0
        for round_ in range(1, args.rounds + 1):
            off, _ = train(template, batch, images, args.data, os.path.join(folder, f"{template}-off-{round_}"), False)
            on, rows = train(template, batch, images, args.data, os.path.join(folder, f"{template}-on-{round_}"), True)
            best_off, best_on = max(best_off, off), max(best_on, on)
            print(f"{template} round {round_}: off {off:,.0f} images/s   on {on:,.0f} images/s ({rows} health rows)",
                  flush=True)
        print(f"main.py train {template}, batch {batch}, {images} images: health off {best_off:,.0f} images/s, "
              f"on {best_on:,.0f} images/s, ratio {best_on / best_off:.3f} (target >= 0.95)", flush=True)


if __name__ == "__main__":
    main()
