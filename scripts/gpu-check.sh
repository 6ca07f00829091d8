#!/usr/bin/env bash
# The checks that need a GPU, for a session that is lent one (CI has none): builds the CUDA
# backend with MPI and NCCL into build-cuda for this machine's GPU, then runs
#   - the cuda suite: every kernel against its CPU op (docs/cuda.md);
#   - the nccl suite under mpirun, one rank per GPU (at most two): the bucketed gradient sum
#     over NCCL on device buffers against the same sum over MPI on the host (docs/distributed.md).
# With one GPU the NCCL check runs with one rank (NCCL refuses two ranks on one device).
# Exits 1 when no GPU is visible or a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
[ -n "$NVCC" ] || { echo "gpu-check: no nvcc (CUDA toolkit) found"; exit 1; }
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
[ "$gpus" -ge 1 ] || { echo "gpu-check: no GPU visible (nvidia-smi -L)"; exit 1; }
echo "== build-cuda (nvcc: $NVCC; $gpus GPU(s)) =="
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DNOISEFORMER_CUDA=ON -DNOISEFORMER_MPI=ON \
  -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES=native >/dev/null
cmake --build build-cuda -j"$(nproc)" --target nf_tests
echo "== cuda suite =="
build-cuda/nf_tests --test-suite=cuda
ranks=$(( gpus < 2 ? gpus : 2 ))
echo "== nccl suite: $ranks rank(s), one GPU each =="
OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np "$ranks" build-cuda/nf_tests --test-suite=nccl
echo "gpu-check: all passed"
