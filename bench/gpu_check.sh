#!/usr/bin/env bash
# The GPU check, one command on a Linux machine with an NVIDIA GPU and the internet:
#   bench/gpu_check.sh [--quick]
# Makes .venv-gpu once (CuPy for CUDA 12 and PyPI's CUDA build of PyTorch, beside the test dependencies; this needs
# the internet, later runs reuse it offline), then runs
#   1. the real-GPU tests (tests/engine/test_cuda.py: transfers, kernels, random numbers, two GPUs where present;
#      tests/engine/distributed/test_nccl.py: the NCCL backend on real NCCL where there are two GPUs);
#   2. the op table with its "cuda" cases on the real GPU (LAYERLAB_REAL_CUDA=1) rather than the CuPy stand-in;
#      --quick leaves this out (it is thousands of cases; it stops after 50 failures);
#   3. the ResNet template's training speed, engine on CuPy against PyTorch on CUDA (bench/train_resnet.py).
# Prints the GPU, then each step's result; exits non-zero at the first step that fails.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
    "") ;;
    --quick) quick=1 ;;
    *) echo "usage: bench/gpu_check.sh [--quick]" >&2; exit 2 ;;
esac
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "bench/gpu_check.sh: no NVIDIA GPU here (nvidia-smi is missing or finds none)" >&2
    exit 1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
lscpu | grep -m1 'Model name' || true

venv=.venv-gpu
[ -x $venv/bin/python ] || python3 -m venv $venv
if ! $venv/bin/python -c 'import cupy, torch, engine, pytest' 2>/dev/null; then
    $venv/bin/python -m pip install -q --disable-pip-version-check -e ".[gpu,test]"  # PyPI's torch: the CUDA build
fi
$venv/bin/python -c '
import cupy, torch
print(f"CuPy {cupy.__version__}: {cupy.cuda.runtime.getDeviceCount()} GPU(s); PyTorch {torch.__version__}, CUDA "
      f"available: {torch.cuda.is_available()}")
assert cupy.cuda.runtime.getDeviceCount() > 0 and torch.cuda.is_available(), "CuPy or PyTorch sees no GPU"
'

echo "== 1. real-GPU tests"
$venv/bin/python -m pytest -q -rs -p no:cacheprovider tests/engine/test_cuda.py tests/engine/distributed/test_nccl.py
if [ $quick -eq 0 ]; then
    echo "== 2. the op table on the GPU"
    LAYERLAB_REAL_CUDA=1 $venv/bin/python -m pytest -q -p no:cacheprovider tests/engine/ops/test_op_table.py \
        -k "cuda" --maxfail=50
fi
echo "== 3. ResNet template on the GPU against PyTorch on CUDA"
$venv/bin/python bench/train_resnet.py --device cuda --batch 128 256 --seconds 10
