#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds, runs every
# test suite through CTest (including `noiseformer gradcheck`), then builds the unit tests once
# more under AddressSanitizer + UndefinedBehaviorSanitizer and runs them there too.
# If nvcc is present, the CUDA backend is also built so it compiles on every change.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")

echo "== sanitizer build (address, undefined) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNOISEFORMER_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target nf_tests noiseformer
# Debug + sanitizers is ~10x slower: the float64 gradient checks of whole GPTs run in the
# Release pass above; here every suite runs except those heavy model-level checks.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$(nproc)" -E '^(gradcheck_cli)$')

# The optional CUDA backend must compile on every change wherever nvcc exists (CI has nvcc but
# no GPU: the cuda suite then reports "no CUDA device" and skips its device checks).
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
if [ -n "$NVCC" ]; then
  echo "== CUDA backend build (nvcc: $NVCC) =="
  cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DNOISEFORMER_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" >/dev/null
  cmake --build build-cuda -j"$(nproc)" --target nf_tests noiseformer
  (cd build-cuda && ctest --output-on-failure -R '^cuda$')
fi
echo "all tests passed"
