#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds, runs every
# test suite through CTest (including `noiseformer gradcheck`), then builds the unit tests once
# more under AddressSanitizer + UndefinedBehaviorSanitizer and runs them there too. Between the
# two, the Release build is installed into a temporary prefix and used as a package. The
# sanitizer build is clang's, which also builds the fuzz targets: each runs briefly at the end.
# If nvcc is present, the CUDA backend is also built so it compiles on every change. Where MPI is
# installed, CTest's `mpi` entry runs data-parallel training as 2 ranks (mpirun, about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --fuzz --gpt2-vocab
scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")

# noiseformer as a library other projects use (docs/library.md), from the Release build above:
# installed into a temporary prefix, examples/train_tiny built against it with find_package and
# run (it exits 1 unless its loss went down and a saved checkpoint reloads to the same loss); a
# one-line program built with `pkg-config --cflags --libs noiseformer`; and examples/subproject
# configured with add_subdirectory() and doctest disabled (it fails if noiseformer leaks flags)
# and its program compiled (the library itself is not rebuilt there, to keep this step short).
echo "== installed package: find_package, pkg-config, add_subdirectory =="
pkg_tmp=$(mktemp -d)
trap 'rm -rf "$pkg_tmp"' EXIT
cmake --install build --prefix "$pkg_tmp/prefix" >/dev/null
cmake -S examples/train_tiny -B "$pkg_tmp/train_tiny" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$pkg_tmp/prefix" >/dev/null
cmake --build "$pkg_tmp/train_tiny" -j"$(nproc)" >/dev/null
(cd "$pkg_tmp" && OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE ./train_tiny/train_tiny)
# The installed CLI loads the same OpenBLAS as the build tree's (its RPATH keeps the OpenMP build).
blas() { ldd "$1" | awk '/libopenblas/ {print $3}'; }
[ "$(blas "$pkg_tmp/prefix/bin/noiseformer")" = "$(blas build/noiseformer)" ] ||
  { echo "installed noiseformer loads $(blas "$pkg_tmp/prefix/bin/noiseformer"), not $(blas build/noiseformer)"; exit 1; }
pc_dir=$(dirname "$(find "$pkg_tmp/prefix" -name noiseformer.pc)")
cat >"$pkg_tmp/one.cpp" <<'CPP'
#include <noiseformer/noiseformer.h>
#include <cstdio>
int main() { std::printf("noiseformer %s: %g\n", NOISEFORMER_VERSION, nf::sum(nf::matmul(nf::ones({2, 3}), nf::ones({3, 4}))).item()); }
CPP
# shellcheck disable=SC2046  # pkg-config's output is meant to be split into arguments
g++ -std=c++17 -O1 "$pkg_tmp/one.cpp" -o "$pkg_tmp/one" $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs noiseformer)
one_out=$("$pkg_tmp/one"); echo "$one_out"
[[ "$one_out" == *": 24" ]] || { echo "the pkg-config program printed the wrong sum"; exit 1; }
cmake -S examples/subproject -B "$pkg_tmp/subproject" -G "Unix Makefiles" --no-warn-unused-cli \
  -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON | grep 'no flags leaked'
make -C "$pkg_tmp/subproject" -s app.cpp.o  # the parent's program, compiled against the targets
if grep -E '"command": .*subproject/app\.cpp' "$pkg_tmp/subproject/compile_commands.json" |
     grep -oE -- '-march=native|-Wextra|-fno-math-errno|-fsanitize[^ ]*'; then
  echo "noiseformer's own flags reached the parent project's target"; exit 1
fi
rm -rf "$pkg_tmp"; trap - EXIT

echo "== sanitizer build (clang: address, undefined, libFuzzer coverage) =="
# One sanitizer build serves the unit tests and the fuzz targets (fuzz/README.md): build-fuzz/.
scripts/fuzz.sh --build-only nf_tests noiseformer
# Debug + sanitizers is ~10x slower: the float64 gradient checks of whole GPTs run in the
# Release pass above; here every suite runs except those heavy model-level checks, the
# kill-and-resume run (900 iterations, also run in the Release pass) and the mpi suite
# (LeakSanitizer reports Open MPI's own start-up allocations; it ran in the Release pass).
(cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$(nproc)" -E '^(gradcheck_cli|kill_resume|mpi)$')
echo "== fuzz smoke: every reader of untrusted input, briefly (scripts/fuzz.sh) =="
scripts/fuzz.sh --smoke

# The optional CUDA backend must compile on every change wherever nvcc exists. CI has nvcc but
# no GPU: the cuda and devices suites then count their GPU instances as skipped (CTest lists them
# as skipped), and the cli suite checks that --device cuda says no CUDA device was found. With
# MPI installed this includes the NCCL communicator; scripts/gpu-check.sh runs it all on GPUs.
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
if [ -n "$NVCC" ]; then
  echo "== CUDA backend build (nvcc: $NVCC) =="
  cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DNOISEFORMER_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" >/dev/null
  cmake --build build-cuda -j"$(nproc)" --target nf_tests noiseformer
  (cd build-cuda && ctest --output-on-failure -R '^(cuda|devices|cli)$')
fi
echo "all tests passed"
