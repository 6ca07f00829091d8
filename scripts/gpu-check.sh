#!/usr/bin/env bash
# The checks that need a GPU, in one go (CI has none; a session lent a GPU runs this at once).
# The GPU machine reaches no network: everything is built from the working tree, and what cannot
# be had there (a CUDA build of PyTorch) is said to be absent. Steps:
#   1. build the CUDA backend (with MPI and NCCL when found) into build-cuda for this GPU;
#   2. the cuda suite: every raw kernel against its CPU op (docs/cuda.md);
#   3. the devices suite: every op forward and backward on the GPU against the CPU in float64,
#      the float64 gradient checks on the GPU, a tiny GPT of each of the seven attentions (loss and
#      one step's gradients, float32 ≤ 1e-4, float64 ≤ 1e-10), AdamW/clipping/accumulation,
#      device checkpoints;
#   4. the nccl suite under mpirun, one rank per GPU (at most two);
#   5. `noiseformer train --device cuda`: tiny noise-v2 for 200 steps on a corpus made of the
#      repository's own docs, then eval and sample on the GPU;
#   6. the GPT-2 small training benchmark (bench_cuda --preset gpt2 --tf32): tokens/s and model
#      FLOPs utilisation against the GPU's dense TF32 peak; beside the PyTorch peer where a CUDA
#      build of torch is importable.
# Ends with one summary line; exits 1 when no GPU is visible or any check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
fail=()
step() { echo; echo "== $* =="; }
scripts/install-deps.sh >/dev/null 2>&1 || echo "gpu-check: install-deps.sh could not install (offline?); building with what is installed"
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
[ -n "$NVCC" ] || { echo "gpu-check: FAILED: no nvcc (CUDA toolkit) found"; exit 1; }
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
[ "$gpus" -ge 1 ] || { echo "gpu-check: FAILED: no GPU visible (nvidia-smi -L)"; exit 1; }
nvidia-smi -L

step "1. build-cuda (nvcc: $NVCC; $gpus GPU(s))"
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DNOISEFORMER_CUDA=ON -DNOISEFORMER_MPI=AUTO \
  -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES=native >/dev/null &&
  cmake --build build-cuda -j"$(nproc)" --target nf_tests noiseformer bench_cuda 2>&1 | grep -E "error|warning: unused|Linking" ||
  true
[ -x build-cuda/nf_tests ] && [ -x build-cuda/noiseformer ] || { echo "gpu-check: FAILED: the CUDA build failed"; exit 1; }

step "2. cuda suite"
build-cuda/nf_tests --test-suite=cuda || fail+=(cuda)
step "3. devices suite"
build-cuda/nf_tests --test-suite=devices || fail+=(devices)

step "4. nccl suite"
if command -v mpirun >/dev/null && build-cuda/nf_tests --list-test-suites 2>/dev/null | grep -q nccl; then
  ranks=$((gpus < 2 ? gpus : 2))
  OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np "$ranks" build-cuda/nf_tests --test-suite=nccl ||
    fail+=(nccl)
else
  echo "no MPI/NCCL in this build: skipped"
fi

step "5. train tiny noise-v2 on the GPU, 200 steps"
work=$(mktemp -d)
cat README.md docs/*.md > "$work/corpus.txt"
nf=build-cuda/noiseformer
train_ok=0
if $nf prepare --input "$work/corpus.txt" --out "$work/data" >/dev/null &&
  $nf train --config configs/tiny-noise-v2.json --data "$work/data" --out "$work/run" --device cuda \
    --max-iters 200 --eval-interval 100 --eval-iters 5 --quiet &&
  $nf eval --checkpoint "$work/run/ckpt.safetensors" --data "$work/data" --device cuda &&
  $nf sample --checkpoint "$work/run/ckpt.safetensors" --device cuda --max-new-tokens 80 --seed 1; then
  first=$(head -1 "$work/run/log.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["loss"])')
  last=$(grep '"val_loss"' "$work/run/log.jsonl" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["val_loss"])')
  echo "first train loss $first, last val loss $last"
  python3 -c "import math,sys; a,b=float('$first'),float('$last'); sys.exit(0 if math.isfinite(b) and b < a else 1)" &&
    train_ok=1
fi
[ "$train_ok" = 1 ] || fail+=(train)

step "6. GPT-2 small training benchmark (float32, TF32 products)"
bench_line="no benchmark"
if build-cuda/bench_cuda --preset gpt2 --tf32 --steps 10 --warmup 3 --json > "$work/bench.json"; then
  cat "$work/bench.json"
  bench_line=$(python3 -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]
print("noiseformer %.0f tok/s, MFU %.1f%%" % (r["tok_per_s"], 100*r["mfu"]))' "$work/bench.json" 2>/dev/null || echo "bench output unreadable")
else
  fail+=(bench)
fi
if python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  python3 bench/torch_gpt.py --device cuda --preset gpt2 --steps 10 --warmup 3 | tee "$work/torch.json"
  peer=$(python3 -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]
print("PyTorch %.0f tok/s" % r["tok_per_s"])' "$work/torch.json" 2>/dev/null || echo "PyTorch output unreadable")
else
  peer="PyTorch peer absent (no CUDA build of torch importable here)"
fi
rm -rf "$work"

secs=$(($(date +%s) - t0))
if [ ${#fail[@]} -eq 0 ]; then
  echo "gpu-check: all passed in ${secs}s; GPT-2 small: $bench_line; $peer"
else
  echo "gpu-check: FAILED (${fail[*]}) in ${secs}s; GPT-2 small: $bench_line; $peer"
  exit 1
fi
