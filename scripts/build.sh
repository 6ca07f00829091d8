#!/usr/bin/env bash
# Configures and builds noiseformer into build/ (Release): every target (the program, tests,
# benchmarks), or with `--target NAME` (repeatable) only those. Other arguments go to cmake's
# configure.
set -euo pipefail
cd "$(dirname "$0")/.."
configure=()
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      [ $# -ge 2 ] || { echo "build.sh: --target needs a target name" >&2; exit 2; }
      targets+=(--target "$2")
      shift 2
      ;;
    *)
      configure+=("$1")
      shift
      ;;
  esac
done
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${configure[@]+"${configure[@]}"} >/dev/null
cmake --build build -j"$(nproc)" ${targets[@]+"${targets[@]}"}
