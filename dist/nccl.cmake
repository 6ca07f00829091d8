# NCCL for data-parallel training on GPUs (included by CMakeLists.txt in a CUDA build with MPI,
# after tensor/kernels/cuda/cuda.cmake found the toolkit). NCCL ships with the toolkit here
# (/usr/local/cuda/{include,lib}); elsewhere pass -DNCCL_ROOT=<prefix>. Without it the build
# goes on with MPI alone (the gradients of CPU tensors), saying so.
find_path(NCCL_INCLUDE_DIR nccl.h
  HINTS ${NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES include)
find_library(NCCL_LIBRARY nccl
  HINTS ${NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES lib lib64)
if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  target_sources(nf_dist PRIVATE ${PROJECT_SOURCE_DIR}/dist/nccl_communicator.cpp)
  target_include_directories(nf_dist PRIVATE ${NCCL_INCLUDE_DIR})
  target_link_libraries(nf_dist PUBLIC CUDA::cudart ${NCCL_LIBRARY})
  # NOISEFORMER_NCCL=1 for dist and everything that links it (world.cpp, the nccl test suite).
  target_compile_definitions(nf_dist PUBLIC NOISEFORMER_NCCL=1)
  message(STATUS "noiseformer: NCCL ${NCCL_LIBRARY} (gradients of GPU tensors)")
else()
  message(STATUS "noiseformer: NCCL not found (NCCL_ROOT): data parallelism over MPI only")
endif()
