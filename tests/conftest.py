"""Say at the top and the bottom of every run whether the comparisons with PyTorch ran: without torch they skip,
and a green run would not test what the project promises."""

import importlib.util


def _torch_line():
    if importlib.util.find_spec("torch") is None:
        return ("PyTorch comparisons: NOT RUN, torch is not installed (scripts/setup --test, or "
                "pip install -e \".[test]\", installs it)")
    import torch

    return f"PyTorch comparisons: torch {torch.__version__}"


def pytest_report_header(config):
    return _torch_line()


def pytest_terminal_summary(terminalreporter):
    line = _torch_line()
    terminalreporter.write_line(line, red="NOT RUN" in line, bold=True)
