#!/usr/bin/env bash
# The main job (README, first command): installs what is missing, builds, prepares the default
# corpus (the King James Bible), trains a tiny NoiseFormer (noise-v2) on it for a few minutes
# on 2 cores, and prints samples from the model before and after training.
# Extra arguments are passed to `noiseformer train` (e.g. --max-iters 300).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target noiseformer  # only what it runs: no tests or benchmarks (scripts/test.sh builds those)
nf=build/noiseformer
[ -f data/kjv/meta.json ] || $nf prepare --out data/kjv
run=runs/main-noise-v2
rm -rf "$run"

echo "== sample before training =="
$nf train --config configs/tiny-noise-v2.json --out "$run" --max-iters 0 "$@"
$nf sample --checkpoint "$run/ckpt.safetensors" --prompt "And God said" --max-new-tokens 200 --seed 7

echo "== training (noise-v2, tiny preset) =="
$nf train --config configs/tiny-noise-v2.json --out "$run" "$@"
$nf eval --checkpoint "$run/ckpt.safetensors" --data data/kjv

echo "== sample after training =="
$nf sample --checkpoint "$run/ckpt.safetensors" --prompt "And God said" --max-new-tokens 300 --seed 7 --top-k 20
