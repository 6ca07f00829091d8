#!/usr/bin/env bash
# Installs the Debian packages noiseformer needs to build, test and run its main job.
# Safe to run repeatedly: apt-get is only called when something is missing.
#   scripts/install-deps.sh           what the build, the tests and the main job need
#   scripts/install-deps.sh --fuzz     also clang with libFuzzer and its OpenMP (scripts/fuzz.sh)
set -euo pipefail
pkgs=(cmake g++ make pkg-config libopenblas-dev libopenblas-openmp-dev doctest-dev nlohmann-json3-dev libcli11-dev
      libstb-dev bible-kjv graphviz libopenmpi-dev openmpi-bin)
for arg in "$@"; do
  case "$arg" in
    --fuzz) pkgs+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;
    *) echo "install-deps.sh: unknown option '$arg' (--fuzz)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
