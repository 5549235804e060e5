"""DistributedDataParallel's errors and options, on two MPI processes and in one without a process group."""

import json

import numpy as np
import pytest
from launch_support import check_ran, needs_mpi, run_ranks

import engine
import engine.distributed as dist
from engine import nn
from engine.nn.parallel import DistributedDataParallel

WORLD = 2


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp_cases")
    check_ran(run_ranks("ddp_cases.py", out, nproc=WORLD))
    return [json.loads((out / f"rank-{r}.json").read_text()) for r in range(WORLD)]


@needs_mpi
def test_a_parameter_without_gradient_is_named(ranks):
    for rank, got in enumerate(ranks):
        assert got["unused"].startswith(f"DistributedDataParallel: on rank {rank} these parameters received no "
                                        f"gradient in this backward pass: b.weight, b.bias.")
        assert "find_unused_parameters=True" in got["unused"]


@needs_mpi
def test_find_unused_parameters_averages_what_the_ranks_gave(ranks):
    for got in ranks:
        for name, want in got["find_unused_expected"].items():
            np.testing.assert_allclose(got["find_unused"][name], want, rtol=1e-6, atol=1e-7, err_msg=name)


@needs_mpi
def test_gradients_can_be_views_of_the_buckets(ranks):
    assert all(got["bucket_view"] for got in ranks)


@needs_mpi
def test_buffers_follow_rank_0_when_gradients_are_recorded(ranks):
    assert ranks[1]["buffer_no_grad"] == [2.0] * 4
    assert ranks[0]["buffer_synced"] == ranks[1]["buffer_synced"] == [1.0] * 4


@needs_mpi
def test_a_backward_that_failed_half_way_leaves_the_next_one_averaged(ranks):
    assert ranks[0]["after_failure"] == ranks[1]["after_failure"]  # each rank's own input, the same average


@needs_mpi
def test_ranks_with_different_models_are_told_which_parameter_differs(ranks):
    assert ranks[0]["mismatch"] == ("DistributedDataParallel: the ranks' modules differ (weight is (2, 4) "
                                    "torch.float32 here, weight is (3, 4) torch.float32 on rank 1); every rank must "
                                    "build the same model")


def test_without_a_process_group_each_entry_point_says_so():
    assert not dist.is_initialized()
    message = "Default process group has not been initialized, please make sure to call init_process_group."
    for call in (lambda: DistributedDataParallel(nn.Linear(2, 2)), lambda: dist.all_reduce(engine.ones(2)),
                 lambda: dist.get_rank(), lambda: dist.barrier(), lambda: dist.destroy_process_group()):
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize(("kwargs", "error", "text"), [
    ({"backend": "gloo"}, ValueError, "unknown backend 'gloo'"),
    ({"backend": "nccl"}, dist.DistError, "backend 'nccl' is not available"),
    ({"timeout": 30}, TypeError, "Expected timeout argument to be of type datetime.timedelta"),
    ({"init_method": "tcp://10.0.0.1:23456"}, ValueError, "init_method 'tcp://10.0.0.1:23456' is not supported"),
])
def test_init_process_group_refuses_what_it_cannot_do(kwargs, error, text):
    with pytest.raises(error, match=text):
        dist.init_process_group(**kwargs)
    assert not dist.is_initialized()
