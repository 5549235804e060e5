"""The NCCL backend on two MPI processes, through the CuPy stand-in and its NCCL stand-in (``fake_nccl``):
the same results as NumPy's for the collectives, and DistributedDataParallel with SyncBatchNorm on "cuda"
tensors training as one process does. With two GPUs (``bench/gpu_check.sh`` runs it there) the same checks
run on real NCCL."""

import json

import numpy as np
import pytest
from collective_cases import expected, reduce_scatter_expected
from launch_support import check_ran, needs_mpi, run_ranks
from sync_bn_steps import BATCH, build, data, train

WORLD = 2


def _real_gpus():
    import device_support

    return device_support.REAL_CUDA_COUNT


@pytest.fixture(scope="module", params=["stand-in", "real"])
def ranks(request, tmp_path_factory):
    if request.param == "real" and _real_gpus() < WORLD:
        pytest.skip(f"real NCCL needs {WORLD} GPUs; this machine has {_real_gpus()}")
    out = tmp_path_factory.mktemp("nccl")
    check_ran(run_ranks("nccl.py", out, *(["real"] if request.param == "real" else []), nproc=WORLD))
    return [(dict(np.load(out / f"rank-{r}.npz")), json.loads((out / f"rank-{r}.json").read_text()))
            for r in range(WORLD)]


CASES = ["sum", "avg", "max", "min", "product", "f64_sum", "i64_sum", "bool_sum", "bool_product", "f16_sum",
         "transposed_sum", "broadcast", "gathered", "gathered_stack"]


@needs_mpi
@pytest.mark.parametrize("case", CASES)
def test_collectives_on_cuda_tensors_give_numpys_result(ranks, case):
    want = expected(WORLD)[case]
    for rank, (got, _) in enumerate(ranks):
        assert got[case].dtype == want.dtype
        np.testing.assert_allclose(got[case].astype(np.float64), want.astype(np.float64), rtol=1e-3 if
                                   case == "f16_sum" else 1e-6, atol=1e-6, err_msg=f"{case} on rank {rank}")


@needs_mpi
def test_reduce_scatter_and_objects(ranks):
    for rank, (got, record) in enumerate(ranks):
        np.testing.assert_allclose(got["scattered_tensor"], reduce_scatter_expected(rank, WORLD), rtol=1e-6)
        assert record["objects"] == [{"from": WORLD - 1}] and record["backend"] == "nccl"


@needs_mpi
def test_the_backend_hands_nccl_its_own_codes(ranks):
    # float32 is NCCL type 7; sum, average and maximum are operations 0, 4 and 2: AVG is NCCL's own
    record = ranks[0][1]
    if record["real"]:
        pytest.skip("real NCCL records no calls: the stand-in does")
    assert record["calls"] == [["allReduce", 12, 7, 0], ["allReduce", 12, 7, 4], ["allReduce", 12, 7, 2]]


@needs_mpi
def test_what_nccl_cannot_take_is_refused(ranks):
    for _, record in ranks:
        assert record["host tensor"] == ("RuntimeError: all_reduce: backend 'nccl' takes tensors on a CUDA device, "
                                         "got one on cpu")
        assert record["bitwise and"] == "ValueError: Cannot use ReduceOp.BAND with NCCL"


@needs_mpi
def test_data_parallel_training_on_cuda_tensors_matches_one_process(ranks):
    images, labels = data()
    want = train(build(), images, labels, lambda step: np.arange(step * BATCH, (step + 1) * BATCH))
    for name, value in want.items():
        for rank, (got, _) in enumerate(ranks):
            np.testing.assert_allclose(got[f"model.{name}"], value, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} on rank {rank}")
