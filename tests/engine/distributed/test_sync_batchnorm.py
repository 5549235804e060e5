"""SyncBatchNorm on two MPI processes, each with half the batch, against BatchNorm2d on the whole batch; and
its conversion and single-process behaviour."""

import numpy as np
import pytest
from launch_support import check_ran, needs_mpi, run_ranks
from sync_bn_steps import BATCH, build, data, first_step, train, upstream

import engine
from engine import nn

WORLD = 2


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("sync_bn")
    check_ran(run_ranks("sync_batchnorm.py", out, nproc=WORLD))
    return [dict(np.load(out / f"rank-{r}.npz")) for r in range(WORLD)]


@needs_mpi
def test_a_step_normalises_with_the_whole_batchs_statistics(ranks):
    images, _ = data()
    engine.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    y, dx, dw, db = first_step(bn, images[:BATCH], upstream())
    half = BATCH // WORLD
    for rank, got in enumerate(ranks):
        part = slice(rank * half, (rank + 1) * half)
        np.testing.assert_allclose(got["y"], y[part], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got["dx"], dx[part], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got["running_mean"], bn.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["running_var"], bn.running_var.numpy(), rtol=1e-5, atol=1e-6)
    # Weight and bias gradients stay each rank's own sums (DistributedDataParallel averages them): they add up.
    np.testing.assert_allclose(sum(r["dw"] for r in ranks), dw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sum(r["db"] for r in ranks), db, rtol=1e-5, atol=1e-5)


@needs_mpi
def test_data_parallel_training_matches_one_process(ranks):
    images, labels = data()
    want = train(build(), images, labels, lambda step: np.arange(step * BATCH, (step + 1) * BATCH))
    for name, value in want.items():
        for rank, got in enumerate(ranks):
            np.testing.assert_allclose(got[f"model.{name}"], value, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} on rank {rank}")


def test_convert_replaces_batch_norms_and_keeps_their_tensors():
    model = build()
    bn = model[1]
    bn.running_mean.add_(1)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm)
    assert converted[1].weight is bn.weight and converted[1].running_mean is bn.running_mean
    assert set(converted.state_dict()) == set(build().state_dict())


def test_without_a_process_group_it_is_batch_norm():
    x = engine.randn(4, 3, 5, 5)
    engine.manual_seed(0)
    sync = nn.SyncBatchNorm(3)
    engine.manual_seed(0)
    plain = nn.BatchNorm2d(3)
    np.testing.assert_allclose(sync(x).detach().numpy(), plain(x).detach().numpy())
    np.testing.assert_allclose(sync.running_var.numpy(), plain.running_var.numpy())
    with pytest.raises(ValueError, match="expected at least 2D input"):
        sync(engine.randn(3))


def test_repr_and_signature_match_pytorch():
    torch = pytest.importorskip("torch")
    assert repr(nn.SyncBatchNorm(4, momentum=None)) == repr(torch.nn.SyncBatchNorm(4, momentum=None))
