"""``engine.ops.jit.njit``: kernels made in factories (closures over constants and other kernels) are found in
numba's on-disk cache by the next process, and variants compiled by different processes never run each other's
code when one process loads both."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from engine.ops import jit

pytestmark = pytest.mark.skipif(jit.numba() is None, reason="numba is not installed")

FACTORY = textwrap.dedent('''
    import functools
    import sys

    import numpy as np

    from engine.ops import jit


    @functools.cache
    def kernels(scale):
        step = np.int64(scale)

        @jit.njit(cache=True)
        def scaled(x):
            return x * step

        @jit.njit(cache=True)
        def kernel(x):
            return scaled(x) + 1

        return kernel


    if __name__ == "__main__":
        for scale in map(int, sys.argv[1:]):
            print(scale, kernels(scale)(10))
''')


def _run(tmp_path, *scales):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), NUMBA_DEBUG_CACHE="1",
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    result = subprocess.run([sys.executable, str(tmp_path / "factory.py"), *map(str, scales)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    return [line for line in lines if not line.startswith("[cache]")], sum("data saved" in line for line in lines)


def test_factory_kernels_are_cached_and_variants_keep_their_own_code(tmp_path):
    (tmp_path / "factory.py").write_text(FACTORY)
    # Two processes compile one variant each, in the same order (numba numbers functions per process, so both
    # variants get the same number: with the factory's name alone their symbols would be the same).
    assert _run(tmp_path, 2) == (["2 21"], 2)
    assert _run(tmp_path, 3) == (["3 31"], 2)
    # A third process finds both in the cache, saves nothing, and runs each variant's own code.
    assert _run(tmp_path, 2, 3) == (["2 21", "3 31"], 0)


def _factory(op, scale):
    @jit.njit
    def kernel(x):
        return helper(x) * scale  # a helper defined after the kernel: its cell is empty when the kernel is made

    @jit.njit
    def helper(x):
        return op(x)

    return kernel, helper


def test_variants_are_named_apart_by_their_code_and_closure():
    """The names that numba caches and mangles under differ with the closure's values and with the code of the
    kernels it calls, down to the functions they name."""
    exp2, helper_exp = _factory(np.exp, 2.0)
    exp3, _ = _factory(np.exp, 3.0)
    log2, helper_log = _factory(np.log, 2.0)
    assert len({exp2.py_func.__qualname__, exp3.py_func.__qualname__}) == 2
    assert helper_exp.py_func.__qualname__ != helper_log.py_func.__qualname__
    assert exp2(1.0) == pytest.approx(2 * np.e) and log2(np.e) == pytest.approx(2.0)
