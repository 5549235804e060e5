"""The network whose runs the run-store tests make: LeNet's template, saved in the test's folder."""

import pytest
from run_support import saved_network


@pytest.fixture
def saved_lenet(tmp_path):
    return saved_network(tmp_path)


@pytest.fixture
def network(saved_lenet):
    return saved_lenet[0]


@pytest.fixture
def net_path(saved_lenet):
    return saved_lenet[1]
