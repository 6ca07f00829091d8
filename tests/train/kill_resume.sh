#!/usr/bin/env bash
# A training run killed with SIGKILL at random moments — during a step, an evaluation, or any file
# operation of a save — and resumed each time must end exactly where an uninterrupted run ends:
# the same weights, bit for bit, and the same log.jsonl losses, each iteration once. A kill can
# land before the first save; then nothing is resumable and the run simply starts again.
#   usage: tests/train/kill_resume.sh NOISEFORMER [KILLS]      (CTest: kill_resume)
set -euo pipefail
nf=$1
kills=${2:-25}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

# A small corpus of its own (the test needs nothing outside the repository).
awk 'BEGIN { srand(7); split("the a light earth was and of in God said day night waters form void", w, " ");
             for (i = 0; i < 4000; i++) { printf "%s%s", w[int(rand() * 15) + 1], (i % 13 == 12) ? ".\n" : " " } }' \
  >"$work/corpus.txt"
"$nf" prepare --input "$work/corpus.txt" --out "$work/data" --tokenizer char >/dev/null
# Saves every 5 iterations, so that many kills land in or near a save.
flags=(--data "$work/data" --n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4 --max-iters 900
       --eval-interval 5 --eval-iters 2 --dropout 0.1 --attention noise-v2 --quiet)

"$nf" train "${flags[@]}" --out "$work/whole"

# The same run, killed and resumed until it finishes.
out=$work/killed
seed=${KILL_SEED:-$RANDOM}
RANDOM=$seed
done_ok=0
attempts=0
for ((k = 0; k <= kills; k++)); do
  args=("${flags[@]}" --out "$out")
  [ -f "$out/ckpt.state.safetensors" ] && args+=(--resume)
  if [ $k -eq $kills ]; then  # the last attempt runs to the end
    "$nf" train "${args[@]}"
    done_ok=1
    break
  fi
  "$nf" train "${args[@]}" &
  pid=$!
  sleep "0.$(printf "%03d" $((RANDOM % 400)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    attempts=$((attempts + 1))
  else
    wait "$pid"  # finished before the kill: it must have succeeded
    done_ok=1
    break
  fi
done
[ $done_ok -eq 1 ] || { echo "kill_resume: the run never finished"; exit 1; }

# Weights: the data sections of both checkpoints, byte for byte (the JSON header before them
# holds a per-save id, which differs). Losses: every logged (iter, loss) pair, in order.
data_of() { local n; n=$(od -An -tu8 -N8 "$1" | tr -d ' '); tail -c +$((9 + n)) "$1" | sha256sum; }
losses_of() { sed -nE 's/.*"iter":([0-9]+),.*"loss":([^,}]+).*/\1 \2/p' "$1"; }
if [ "$(data_of "$work/whole/ckpt.safetensors")" != "$(data_of "$out/ckpt.safetensors")" ]; then
  echo "kill_resume (KILL_SEED=$seed): the weights differ from the uninterrupted run's"; exit 1
fi
if ! diff <(losses_of "$work/whole/log.jsonl") <(losses_of "$out/log.jsonl") >/dev/null; then
  echo "kill_resume (KILL_SEED=$seed): log.jsonl losses differ from the uninterrupted run's"; exit 1
fi
echo "kill_resume: $attempts kills; weights and $(losses_of "$out/log.jsonl" | wc -l) logged losses identical to the uninterrupted run (KILL_SEED=$seed)"
