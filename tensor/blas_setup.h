#pragma once
// Choosing OpenBLAS's kernels. Debian's OpenBLAS 0.3.21 picks its AVX2 (Haswell) kernels on
// AVX-512 CPUs such as Zen 4/5 unless OPENBLAS_CORETYPE=SkylakeX is set *before the library
// loads*, and the SkylakeX kernels are the faster ones there (docs/performance.md). Since the
// library loads before main() runs, the only reliable switch is to set the variable and re-exec
// the program once. It is done only when the CPU reports avx512f (and avx512vl/bw/dq, which
// SkylakeX kernels use). An OPENBLAS_CORETYPE already set is kept, except "Haswell" — the
// AVX2 fallback itself, which some machine images set globally — and the whole switch is
// disabled with NOISEFORMER_BLAS_AUTO=0 (docs/performance.md).
namespace nf {
void use_fastest_blas_kernels(char** argv);
}
