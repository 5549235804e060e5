"""LayerLab's entry point. With no arguments it opens the app; until the GUI lands it shows what the
engine can do."""

import argparse
import sys


def _engine_tour():
    import engine as torch

    print("LayerLab engine", torch.__version__, "- a PyTorch-compatible engine on NumPy"
          + (" and CuPy" if torch.cuda.is_available() else ""))
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    out = (y * y * 3).mean()
    out.backward()
    print(">>> x = torch.ones(2, 2, requires_grad=True); out = ((x + 2) ** 2 * 3).mean(); out.backward()")
    print("out =", out)
    print("x.grad =", x.grad)
    print("CUDA available:", torch.cuda.is_available(), "| devices:", torch.cuda.device_count())
    print("The node editor is not built yet; run the tests with: python -m pytest")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="layerlab", description=__doc__)
    parser.parse_args(argv)
    _engine_tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
