"""Fixtures for the command-line tests (the helpers they use are in ``cli_helpers``)."""

import pytest
from cli_helpers import Result, copy_template, write_cifar

import main as entry


@pytest.fixture
def cli(capsys):
    """``cli(*args)`` runs ``main.main(args)`` in this process and returns its exit code and output."""

    def run(*args):
        capsys.readouterr()
        try:
            code = entry.main([str(a) for a in args])
        except SystemExit as e:  # argparse refusing an option, as the process would exit
            code = e.code
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def mlp(tmp_path):
    return copy_template("mlp_fashion_mnist", tmp_path)


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory):
    return write_cifar(tmp_path_factory.mktemp("cifar"))
