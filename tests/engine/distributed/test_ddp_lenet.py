"""DistributedDataParallel on two MPI processes against one process with the same global batch."""

import numpy as np
import pytest
from launch_support import check_ran, needs_mpi, run_ranks
from lenet_steps import BATCH, SEED, SHARED_CIFAR, STEPS, build, cifar_batches, train

needs_cifar = pytest.mark.skipif(not (SHARED_CIFAR / "cifar-10-batches-py").is_dir(),
                                 reason="the real CIFAR-10 is not at ../shared/data/cifar10 (no shared data folder)")
WORLD = 2


@pytest.fixture(scope="module")
def single_process():
    images, labels = cifar_batches()
    return train(build(SEED), images, labels, STEPS, lambda step: np.arange(step * BATCH, (step + 1) * BATCH))


@needs_mpi
@needs_cifar
@pytest.mark.parametrize("micro_batches", [1, 2], ids=["each-step-synced", "no_sync-accumulation"])
def test_lenet_template_trains_as_one_process_with_the_global_batch(single_process, micro_batches, tmp_path):
    check_ran(run_ranks("ddp_lenet.py", tmp_path, micro_batches, nproc=WORLD))
    ranks = [dict(np.load(tmp_path / f"rank-{r}.npz")) for r in range(WORLD)]
    worst = 0.0
    for name, want in single_process.items():
        for rank, got in enumerate(ranks):
            diff = float(np.abs(got[name] - want).max())
            worst = max(worst, diff)
            assert diff <= 1e-5, f"{name} on rank {rank}: {diff:.2e} from the single process"
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=f"{name}: the ranks differ")
    print(f"DDP ({WORLD} processes, {STEPS} steps, micro-batches {micro_batches}) against one process: "
          f"max abs difference {worst:.2e}")
