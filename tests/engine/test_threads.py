"""The engine's CPU threads: the threaded elementwise ops and products give NumPy's results in every case
they accept or decline, work handed to the team comes back in order (errors too), and thread settings
behave like PyTorch's."""

import os
import threading
import weakref

import numpy as np
import pytest

import engine
from engine import threads


@pytest.mark.parametrize("b_shape", [(600, 500), (500,), (1, 500), (600, 1), ()])
@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.subtract, np.true_divide])
def test_threaded_binary_matches_numpy(ufunc, b_shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 500)).astype(np.float32)
    assert a.size >= threads.PARALLEL_MIN_SIZE
    b = rng.standard_normal(b_shape).astype(np.float32) + 3 if b_shape else 2.5
    np.testing.assert_array_equal(threads.cpu_binary(ufunc, a, b), ufunc(a, b))
    np.testing.assert_array_equal(threads.cpu_binary(ufunc, a.T, b if not b_shape else np.float32(2)),
                                  ufunc(a.T, b if not b_shape else np.float32(2)))


def test_tensor_ops_on_large_arrays():
    x = engine.randn(700, 400)
    y = engine.randn(400)
    np.testing.assert_array_equal((x + y).numpy(), x.numpy() + y.numpy())
    np.testing.assert_array_equal((x * 2.0).numpy(), x.numpy() * np.float32(2.0))


def test_num_threads():
    before = threads.get_num_threads()
    threads.set_num_threads(1)
    x = engine.randn(700, 400)
    np.testing.assert_array_equal((x + x).numpy(), x.numpy() * 2)
    with pytest.raises(RuntimeError, match="must be positive"):
        threads.set_num_threads(0)
    threads.set_num_threads(before)
    assert threads.get_num_threads() == before


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("shapes", [((300, 400), (400, 500)), ((600, 300), (300, 20)), ((8, 20000), (20000, 75)),
                                    ((5, 7), (7, 3))], ids=["rows", "tall", "columns", "small"])
def test_threaded_matmul_matches_numpy(shapes, count):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    before = threads.get_num_threads()
    threads.set_num_threads(count)
    try:
        for x, y in ((a, b), (np.asfortranarray(a), b[:, ::-1])):
            out = threads.cpu_matmul(x, y)
            assert out.dtype == np.float32 and out.flags.c_contiguous
            np.testing.assert_allclose(out, x @ y, rtol=1e-5, atol=1e-4)
    finally:
        threads.set_num_threads(before)


def test_numpys_blas_runs_one_thread_per_call():
    """The engine splits its products over its own threads; BLAS threads of their own would spin and take a
    core from the engine's convolution kernels (see ``threads._one_blas_thread``)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas").info()
    numpys = [lib for lib in blas if f"{os.sep}numpy" in lib["filepath"]]  # not SciPy's own, loaded later
    assert numpys and all(lib["num_threads"] == 1 for lib in numpys)


@pytest.fixture(params=[2, 3])
def team_of(request):
    before = threads.get_num_threads()
    threads.set_num_threads(request.param)
    yield request.param
    threads.set_num_threads(before)


def test_cpu_map_returns_results_in_order_and_uses_the_workers(team_of):
    names = []

    def work(k):
        names.append(threading.current_thread().name)
        return k * k

    assert threads.cpu_map(work, list(range(7))) == [k * k for k in range(7)]
    assert len(set(names)) == team_of  # the caller and every worker took items


def test_workers_hold_nothing_of_a_finished_job(team_of):
    """A finished job's function, items and results are let go, so the arrays they hold are freed and a
    gradient a threaded kernel made is the backward pass's alone (a leaf's .grad takes it without a copy)."""
    blocks = [np.ones(1000) for _ in range(team_of)]
    watched = [weakref.ref(b) for b in blocks]
    results = threads.cpu_map(lambda b: b * 2, blocks)
    del blocks
    assert all(ref() is None for ref in watched)
    produced = weakref.ref(results[-1])
    del results
    assert produced() is None


def test_cpu_map_raises_a_workers_error_and_stays_usable(team_of):
    def work(k):
        if k == 1:
            raise ValueError("item 1 is bad")
        return k

    with pytest.raises(ValueError, match="item 1 is bad"):
        threads.cpu_map(work, [0, 1, 2])
    assert threads.cpu_map(lambda k: k + 1, [0, 1, 2]) == [1, 2, 3]


def test_nested_and_concurrent_calls_run_their_items_themselves(team_of):
    """A job calling cpu_map, or a second thread calling while the team is busy, must not wait for it."""
    inner = threads.cpu_map(lambda k: threads.cpu_map(lambda j: j + k, [0, 1]), [0, 10])
    assert inner == [[0, 1], [10, 11]]
    results = {}

    def caller(name):
        results[name] = threads.cpu_map(lambda k: np.sqrt(np.full(200_000, float(k))).sum(), list(range(4)))

    callers = [threading.Thread(target=caller, args=(n,)) for n in range(3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(timeout=30)
    assert all(not t.is_alive() for t in callers)
    expected = [np.sqrt(np.full(200_000, float(k))).sum() for k in range(4)]
    assert all(results[n] == expected for n in range(3))


def test_set_num_threads_resizes_the_team():
    before = threads.get_num_threads()
    try:
        for count in (3, 2, 1):
            threads.set_num_threads(count)
            names = threads.cpu_map(lambda _: threading.current_thread().name, list(range(6)))
            assert len(set(names)) == count
    finally:
        threads.set_num_threads(before)


def test_batched_linalg_splits_the_stack_and_gives_numpys_results():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 24, 24)) + 6 * np.eye(24)
    b = rng.standard_normal((300, 24, 2))
    whole = rng.standard_normal((24, 2))
    seen = []

    def solve(x, y):
        seen.append(x.shape[0])
        return np.linalg.solve(x, y)

    np.testing.assert_array_equal(threads.cpu_batched(solve, a, b), np.linalg.solve(a, b))
    assert len(seen) == engine.get_num_threads() and sum(seen) == 300
    np.testing.assert_array_equal(threads.cpu_batched(np.linalg.solve, a, whole[None]), np.linalg.solve(a, whole[None]))
    for ours, numpys in zip(threads.cpu_batched(np.linalg.slogdet, a), np.linalg.slogdet(a)):
        np.testing.assert_array_equal(ours, numpys)
    singular = a.copy()
    singular[250] = 0
    with pytest.raises(np.linalg.LinAlgError):
        threads.cpu_batched(np.linalg.inv, singular)


def engine_printout(code, env=None):
    """What ``code`` prints in a fresh Python process started in the project's root (the engine's import-time
    settings are only seen there)."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                          cwd=root).stdout


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and at least two usable CPUs")
def test_default_thread_count_follows_the_affinity_mask():
    """Started on one CPU (``taskset -c 0``, a container's cpuset), the engine uses one thread, not the machine's
    count, and ``usable_cpus`` (which a sweep's jobs and the GUI's job limit read) says one."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    code = (f"import os; os.sched_setaffinity(0, {{{cpu}}}); import engine; from engine import threads; "
            "print(engine.get_num_threads(), threads.usable_cpus())")
    assert engine_printout(code).split() == ["1", "1"]


@pytest.mark.parametrize(("value", "want"), [("1", 1), ("2,1", 2), ("1000", None), ("0", None), ("many", None)])
def test_default_thread_count_follows_omp_num_threads(value, want):
    """As PyTorch 2.13: a positive OMP_NUM_THREADS (a launcher's share of the machine for each process) sets the
    engine's threads up to the usable CPUs; a value that is not one is ignored."""
    from engine.threads import usable_cpus

    out = engine_printout("import engine; print(engine.get_num_threads())", dict(os.environ, OMP_NUM_THREADS=value))
    assert int(out) == (usable_cpus() if want is None else min(want, usable_cpus()))


@pytest.mark.parametrize(("given", "want"), [({}, "20000 None"), ({"OMP_WAIT_POLICY": "PASSIVE"}, "None PASSIVE"),
                                             ({"GOMP_SPINCOUNT": "5"}, "5 None")])
def test_openmp_idle_workers_spin_briefly_unless_the_user_chose(given, want):
    """Importing the engine gives OpenMP's idle workers a short spin before they sleep (set before libgomp starts);
    a wait policy or spin count the user set is left alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = "import os, engine; print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"
    assert engine_printout(code, dict(env, **given)).strip() == want
