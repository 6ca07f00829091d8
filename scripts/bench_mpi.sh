#!/usr/bin/env bash
# Data-parallel speed on this machine (docs/performance.md, "Data parallelism"): for each preset,
# the same steps (2 micro-batches each) run as 1 rank x T threads with --grad-accum 2, and as
# 2 ranks (mpirun) x T/2 threads with --grad-accum 1. Prints, per run, the median step time,
# tokens/s and (2 ranks) the median share of the step spent communicating (log.jsonl's comm_ms
# over ms), skipping the first 5 steps. Needs a build with MPI (build/noiseformer) and data/kjv.
#   scripts/bench_mpi.sh [--presets "tiny small"] [--iters 50] [--threads 2] [--repeat 1]
set -euo pipefail
cd "$(dirname "$0")/.."
presets="tiny small"; iters=50; threads=2; repeat=1
while [ $# -gt 0 ]; do
  case "$1" in
    --presets) presets="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "bench_mpi.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x build/noiseformer ] || { echo "bench_mpi.sh: build/noiseformer missing (scripts/build.sh)" >&2; exit 1; }
[ -f data/kjv/meta.json ] || build/noiseformer prepare --out data/kjv >/dev/null
half=$(( threads / 2 > 0 ? threads / 2 : 1 ))
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
summary() {  # log.jsonl -> "median_ms tok_per_s comm_pct"
  python3 - "$1" "$2" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
lines = [l for l in lines if l["iter"] >= 5]
ms = statistics.median(l["ms"] for l in lines)
tok = int(sys.argv[2]) / (ms / 1000)
comm = statistics.median(100 * l["comm_ms"] / l["ms"] for l in lines) if "comm_ms" in lines[0] else float("nan")
wait = statistics.median(100 * l["comm_wait_ms"] / l["ms"] for l in lines) if "comm_wait_ms" in lines[0] else float("nan")
print(f"{ms:9.1f} {tok:9.0f} {comm:7.1f} {wait:7.1f}")
PY
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-22s %9s %9s %7s %7s\n' preset run "ms/step" "tok/s" "comm%" "wait%"
for rep in $(seq "$repeat"); do
  for preset in $presets; do
    cfg=configs/$preset-base.json
    tokens=$(python3 -c "import json; c=json.load(open('$cfg')); print(2 * c['batch_size'] * c['block_size'])")
    common=(--config "$cfg" --max-iters "$iters" --eval-interval 0 --eval-iters 1 --quiet)
    OMP_NUM_THREADS=$threads build/noiseformer train "${common[@]}" --grad-accum 2 --out "$tmp/one"
    printf '%-6s %-22s %s\n' "$preset" "1 rank x $threads threads" "$(summary "$tmp/one/log.jsonl" "$tokens")"
    mpirun --oversubscribe --allow-run-as-root --bind-to none -np 2 -x OMP_NUM_THREADS="$half" \
      build/noiseformer train "${common[@]}" --grad-accum 1 --out "$tmp/two"
    printf '%-6s %-22s %s\n' "$preset" "2 ranks x $half thread(s)" "$(summary "$tmp/two/log.jsonl" "$tokens")"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
