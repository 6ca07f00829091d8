#!/usr/bin/env bash
# noiseformer vs PyTorch, CPU training throughput on the same GPT shapes.
#
# Runs build/bench_train (bench/bench_train.cpp) and the PyTorch peer script (default
# bench/torch_gpt.py, the same GPT in PyTorch; --torch-script PATH to use another) on
# each preset and attention, alternating the two programs `--repeat` times in the same environment:
#   OMP_WAIT_POLICY=PASSIVE, OMP_NUM_THREADS=<threads>, and the same OPENBLAS_CORETYPE for both
#   (SkylakeX where the CPU has AVX-512 F/VL/BW/DQ — the choice tensor/blas_setup.h makes —
#   otherwise whatever the environment says).
# Prints each program's median ms/step (the median over repeats of each run's median step), peak
# RSS, our matmul-only floor, and the ratios. Symmetric is compared with the peer's symmetric and
# every other variant with the peer's base (as in docs/performance.md's figures).
#
#   scripts/bench_vs_torch.sh                              # tiny + small, base, 3 repeats
#   scripts/bench_vs_torch.sh --presets "tiny small gpt2" --attentions all --repeat 5
#
# Options: --build DIR (default build-bench), --presets "…", --attentions "…"|all, --repeat N,
#          --threads N (default 2), --torch-script PATH, --no-build.
# Installs python3-torch with apt-get when it is missing (tests never need it, so it is not in
# scripts/install-deps.sh).
set -euo pipefail
CALLER_DIR=$PWD  # --torch-script PATH is relative to where the script was called from
cd "$(dirname "$0")/.."

BUILD=build-bench
PRESETS="tiny small"
ATTENTIONS="base"
REPEAT=3
THREADS=2
DO_BUILD=1
TORCH_SCRIPT=bench/torch_gpt.py
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --presets) PRESETS="$2"; shift 2 ;;
    --attentions) ATTENTIONS="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --torch-script) TORCH_SCRIPT="$2"; [[ "$2" = /* ]] || TORCH_SCRIPT="$CALLER_DIR/$2"; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench_vs_torch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$TORCH_SCRIPT" ] || { echo "bench_vs_torch.sh: PyTorch peer $TORCH_SCRIPT not found (--torch-script PATH)" >&2; exit 1; }
[ "$ATTENTIONS" = all ] && ATTENTIONS="base symmetric noise-v1 noise-v2 diff shared-diff selective"

# ---- PyTorch (Debian's python3-torch) ----------------------------------------------------------
PY=/usr/bin/python3
if ! $PY -c 'import torch' 2>/dev/null; then
  echo "== installing python3-torch (apt-get)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y python3-torch >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y python3-torch >&2; }
fi

# ---- our benchmark -----------------------------------------------------------------------------
if [ "$DO_BUILD" = 1 ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target bench_train >/dev/null
fi
BENCH="$BUILD/bench_train"
[ -x "$BENCH" ] || { echo "bench_vs_torch.sh: $BENCH not built" >&2; exit 1; }

# ---- one environment for both ------------------------------------------------------------------
export OMP_WAIT_POLICY=PASSIVE
export OMP_NUM_THREADS="$THREADS"
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512vl "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512dq "* ]]; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
export NOISEFORMER_BLAS_REEXEC=1  # the variable is already as blas_setup.h would set it: no re-exec

echo "# $(date -u +%FT%TZ)  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cpus"
echo "# OMP_WAIT_POLICY=$OMP_WAIT_POLICY OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
for preset in $PRESETS; do
  # timed steps: bench_train's own defaults and the peer's 10 (+3 warm-up); for GPT-2-small 3 (+1)
  # for both, as its steps take seconds (PyTorch's ~18 s here)
  steps=(); tsteps=(--steps 10 --warmup 3); tbatch=()
  if [ "$preset" = gpt2 ]; then steps=(--steps 3 --warmup 1); tsteps=(--steps 3 --warmup 1); tbatch=(--batch-size 1); fi
  for attn in $ATTENTIONS; do
    tattn=base; [ "$attn" = symmetric ] && tattn=symmetric
    for ((r = 1; r <= REPEAT; r++)); do
      echo "  $preset $attn: run $r/$REPEAT" >&2
      "$BENCH" --json --preset "$preset" --attention "$attn" "${steps[@]}" >>"$RESULTS"
      # PyTorch's run for this (preset, attention): for a variant it lacks, its base (run once per repeat)
      if [ "$tattn" = "$attn" ] || ! grep -q "\"torch_for\": \"$preset/base/$r\"" "$RESULTS"; then
        $PY "$TORCH_SCRIPT" --preset "$preset" --attention "$tattn" --threads "$THREADS" "${tsteps[@]}" "${tbatch[@]}" |
          sed "s|^{|{\"torch_for\": \"$preset/$tattn/$r\", |" >>"$RESULTS"
      fi
    done
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

$PY - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours, torch = {}, {}
for r in rows:
    if r.get("engine") == "noiseformer":
        ours.setdefault((r["preset"], r["attention"]), []).append(r)
    else:
        p, a, _ = r["torch_for"].split("/")
        torch.setdefault((p, a), []).append(r)
med = lambda rs, k: statistics.median(x[k] for x in rs)
r = lambda x, y: f"{x / y:6.2f}" if y else "     -"
print(f"{'preset':6} {'attention':11} | {'ours ms':>8} {'torch ms':>8} {'ratio':>6} | {'RSS MiB':>7} {'t RSS':>6} |"
      f" {'tok/s':>7} {'GF/s':>6} | {'floor':>6} {'x floor':>7} | {'x base':>6}")
for (p, a), rs in ours.items():
    t = torch.get((p, a if a == "symmetric" else "base"))
    base = ours.get((p, "base"))
    ms = med(rs, "ms")
    tms, trss = (med(t, "ms"), med(t, "peak_rss_mib")) if t else (0, 0)
    print(f"{p:6} {a:11} | {ms:8.1f} {tms:8.1f} {r(ms, tms)} | {med(rs, 'peak_rss_mib'):7.0f} {trss:6.0f} |"
          f" {med(rs, 'tok_per_s'):7.0f} {med(rs, 'gflops'):6.1f} | {med(rs, 'floor_ms'):6.1f} {r(ms, med(rs, 'floor_ms'))} |"
          f" {r(ms, med(base, 'ms')) if base else '     -'}")
print("ratio = ours / PyTorch (lower is better; symmetric against PyTorch's symmetric, every other"
      " variant against PyTorch's base); x floor = ours ms / matmul-only floor ms (same run);"
      " x base = this attention's ms / base's ms (ours)")
EOF
