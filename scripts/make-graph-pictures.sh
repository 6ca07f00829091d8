#!/usr/bin/env bash
# Redraws the pictures of the autograd graph in docs/images/ (shown in docs/autograd.md,
# docs/noiseformer.md, docs/diff.md and docs/selective.md) with `noiseformer graph`, each on the
# command's tiny default model (1 layer, 2 heads, n_embd 8, 4 tokens). Needs build/noiseformer
# (scripts/build.sh --target noiseformer) and Graphviz's dot (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/noiseformer
[ -x "$bin" ] || { echo "make-graph-pictures.sh: $bin is missing; run scripts/build.sh --target noiseformer" >&2; exit 1; }
command -v dot >/dev/null || { echo "make-graph-pictures.sh: Graphviz's dot is not on PATH; run scripts/install-deps.sh" >&2; exit 1; }
out=docs/images
# The whole model, one box per module, with the gradient norms of one backward pass.
"$bin" graph --attention base --grads --out "$out/graph-gpt-base.svg"
# One attention module op by op per variant family: where the noise, the two softmaxes, the mask enter.
for attention in base noise-v2 diff selective; do
  "$bin" graph --attention "$attention" --module h.0.attn --out "$out/graph-attn-$attention.svg"
done
