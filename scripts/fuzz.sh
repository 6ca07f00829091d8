#!/usr/bin/env bash
# Fuzzes every reader of untrusted input (fuzz/README.md, docs/reliability.md) with libFuzzer
# under AddressSanitizer + UndefinedBehaviorSanitizer, one target at a time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   campaign: default 600 s per target; a
#                         finding does not stop it (fork mode), every one is kept
#   scripts/fuzz.sh --smoke [TARGET...]                ~12 s per target for the test command;
#                         stops at, and fails on, the first finding
#   scripts/fuzz.sh --build-only [CMAKE_TARGET...]     configure and build build-fuzz/ (the fuzz
#                         targets, plus e.g. nf_tests: the test command runs its sanitizer suites
#                         in this same build) and stop
#
# Builds build-fuzz/ with clang (scripts/install-deps.sh --fuzz installs it), writes seeds from
# the repository's own fixtures (fuzz/make-seeds.sh) into build-fuzz/fuzz-seeds/, grows the
# corpus in build-fuzz/fuzz-corpus/<target>/ (kept between runs), writes each finding to
# build-fuzz/fuzz-findings/<target>/ and prints one summary line per target. Exits 1 if any
# target produced a finding in this run. Reproduce one with: build-fuzz/fuzz/fuzz_<target> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(safetensors load_model gpt_config tokenizer glue_tsv train_config token_bin)
declare -A max_len=([safetensors]=16384 [load_model]=16384 [gpt_config]=1024 [tokenizer]=8192
                    [glue_tsv]=4096 [train_config]=4096 [token_bin]=4096)
declare -A dict=([safetensors]=json [load_model]=json [gpt_config]=json [tokenizer]=json
                 [glue_tsv]=tsv [train_config]=json [token_bin]=)

smoke=0
seconds=600
build_only=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; seconds=12; shift
elif [ "${1:-}" = "--build-only" ]; then build_only=1; shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift
elif [ -n "${1:-}" ] && [[ ! " ${all_targets[*]} " =~ " $1 " ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2
fi
extra_build=()
if [ $build_only -eq 1 ]; then extra_build=("$@"); set --; fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " =~ " $t " ]] || { echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done

# ---- build ----------------------------------------------------------------------------------
scripts/install-deps.sh --fuzz
CLANG_VERSION=${CLANG_VERSION:-14}
cc=clang-$CLANG_VERSION; cxx=clang++-$CLANG_VERSION
command -v "$cxx" >/dev/null || { cc=clang; cxx=clang++; }
jobs=${FUZZ_BUILD_JOBS:-$(nproc)}
echo "== fuzz build (build-fuzz/, $cxx, address + undefined + fuzzer) =="
CC=$cc CXX=$cxx cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DNOISEFORMER_SANITIZE=ON -DNOISEFORMER_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzzers "${extra_build[@]}"
[ $build_only -eq 1 ] && exit 0
# Seeds are made with the ordinary (Release) binary: fast, and only valid inputs go through it.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target noiseformer

seeds=build-fuzz/fuzz-seeds
if [ ! -f "$seeds/.stamp" ] || [ fuzz/make-seeds.sh -nt "$seeds/.stamp" ] || [ build/noiseformer -nt "$seeds/.stamp" ]; then
  echo "== seeds (fuzz/make-seeds.sh) =="
  fuzz/make-seeds.sh build/noiseformer "$seeds"
  touch "$seeds/.stamp"
fi

# ---- run ------------------------------------------------------------------------------------
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=build-fuzz/fuzz-logs
mkdir -p "$logs"
summary=()
failed=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/fuzz-corpus/$t
  findings=build-fuzz/fuzz-findings/$t
  mkdir -p "$corpus" "$findings"
  before=$(ls "$findings" | wc -l)
  inputs=("$corpus" "$seeds/$t")
  [ -d "fuzz/regressions/$t" ] && inputs+=("fuzz/regressions/$t")
  flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10
         -max_len="${max_len[$t]}" -artifact_prefix="$findings/" -print_final_stats=1 -print_funcs=0)
  [ -n "${dict[$t]}" ] && flags+=(-dict="fuzz/${dict[$t]}.dict")
  # A campaign goes on after a finding (each is kept); the smoke run stops at the first.
  [ $smoke -eq 0 ] && flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  echo "== fuzz_$t: ${seconds}s, max_len ${max_len[$t]} =="
  start=$(date +%s)
  rc=0
  "build-fuzz/fuzz/fuzz_$t" "${flags[@]}" "${inputs[@]}" >"$logs/$t.log" 2>&1 || rc=$?
  secs=$(( $(date +%s) - start ))
  # The last status line: "#N ... cov: C ft: F corp: K..." (fork mode: "#N: cov: C ft: F corp: K ...").
  last=$(grep -aoE '#[0-9]+:?[[:space:]]+([A-Z]+[[:space:]]+)?cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$logs/$t.log" | tail -1 || true)
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  n_corpus=$(ls "$corpus" | wc -l)
  new=$(( $(ls "$findings" | wc -l) - before ))
  kinds=$(ls -t "$findings" | head -n "$new" | sed -E 's/-.*//' | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}')
  eps=$(( secs > 0 ? ${execs:-0} / secs : 0 ))
  line=$(printf '%-13s %5ss %10s execs %6s/s  cov %5s  ft %6s  corpus %5s  findings %s' \
         "$t" "$secs" "${execs:-?}" "$eps" "${cov:-?}" "${ft:-?}" "$n_corpus" "${new}${kinds:+ ($kinds)}")
  summary+=("$line")
  echo "$line"
  if [ "$new" -gt 0 ] || { [ $smoke -eq 1 ] && [ $rc -ne 0 ]; }; then
    failed=1
    echo "   see $logs/$t.log; inputs in $findings/"
    grep -m3 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|==nf-fuzz==|SUMMARY' "$logs/$t.log" | sed 's/^/   /' || true
  fi
done
echo "== fuzz summary (${seconds}s per target; logs in $logs/) =="
printf '%s\n' "${summary[@]}"
exit $failed
