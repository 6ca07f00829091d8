# The optional CUDA backend, included by CMakeLists.txt when -DNOISEFORMER_CUDA=ON,
# after the layer targets exist. Builds tensor/kernels/cuda/*.cu into `nfcuda`,
# links it into nf_tensor with cudart and cuBLAS, and defines NOISEFORMER_CUDA=1 for nf_tensor and
# everything that links it (tensor/device_hooks.cpp then installs the backend; tests/tensor/test_cuda.cpp
# and bench/bench_cuda.cpp compile their CUDA parts). See docs/cuda.md.
#
# Configures and builds without a GPU (only nvcc and the toolkit's libraries are needed):
#   cmake -S . -B build-cuda -DNOISEFORMER_CUDA=ON -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc
#   cmake --build build-cuda -j2

# The GPUs this project is lent are H100/H200 (sm_90); sm_80 covers A100s. Override with
# -DCMAKE_CUDA_ARCHITECTURES=... (e.g. "native" on a machine with a GPU). Must be set before
# enable_language so CMake's compiler check uses it too.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
  set(CMAKE_CUDA_ARCHITECTURES 80 90)
endif()
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
# One CUDA runtime in every binary: the shared libcudart that CUDA::cudart names (not the static
# one nvcc would add to the link line as well).
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

file(GLOB NF_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tensor/kernels/cuda/*.cu)
add_library(nfcuda STATIC ${NF_CUDA_SOURCES})
# The project's own C++ flags (-march=native, sanitizers: nf_target_flags) are host-compiler
# flags nvcc does not take as such and are not applied here; the warnings are passed through.
target_compile_options(nfcuda PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra -lineinfo --expt-relaxed-constexpr>)
set_target_properties(nfcuda PROPERTIES
  CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_SEPARABLE_COMPILATION OFF CUDA_RUNTIME_LIBRARY Shared
  POSITION_INDEPENDENT_CODE ON)
# Same include paths as the layers (build tree / installed package, CMakeLists.txt).
target_include_directories(nfcuda PUBLIC ${NF_INCLUDE_DIRS})
add_library(noiseformer::cuda ALIAS nfcuda)
target_link_libraries(nfcuda PUBLIC CUDA::cudart CUDA::cublas)
target_compile_definitions(nfcuda PUBLIC NOISEFORMER_CUDA=1)

# nf_tensor (device_hooks.cpp) installs the backend; anything linking it sees NOISEFORMER_CUDA.
# The kernels' CUDA twins (tensor/kernels/cuda/*.cpp: plain C++ that turns tensors into the
# pointers and strides the .cu launchers take) are part of nf_tensor itself.
file(GLOB NF_GPU_TWINS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tensor/kernels/cuda/*.cpp)
target_sources(nf_tensor PRIVATE ${NF_GPU_TWINS})
target_link_libraries(nf_tensor PUBLIC nfcuda)
target_compile_definitions(nf_tensor PUBLIC NOISEFORMER_CUDA=1)
message(STATUS "noiseformer: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
