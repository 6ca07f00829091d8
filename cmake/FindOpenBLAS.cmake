# FindOpenBLAS: OpenBLAS's CBLAS interface (cblas.h + libopenblas), preferring the OpenMP build.
#
# noiseformer wants the OpenMP build: BLAS calls and the library's own OpenMP kernels then share
# one thread pool and never oversubscribe the cores (docs/performance.md). Debian ships it as
# libopenblas-openmp-dev, under <libdir>/openblas-openmp and <includedir>/openblas-openmp; those
# directories are searched first (as HINTS, so OpenBLAS_ROOT, CMAKE_PREFIX_PATH and the cache
# variables below still win). Then whatever `pkg-config openblas` names, then the default paths.
#
# Override with -DOpenBLAS_ROOT=<prefix>, or -DOpenBLAS_INCLUDE_DIR=... -DOpenBLAS_LIBRARY=...
#
# Defines
#   OpenBLAS_FOUND, OpenBLAS_INCLUDE_DIR(S), OpenBLAS_LIBRARY / OpenBLAS_LIBRARIES,
#   OpenBLAS_IS_OPENMP   true when the library found is the OpenMP build (by its directory name
#                        or pkg-config's openblas_config), for a status message only
#   OpenBLAS::OpenBLAS   imported target (not redefined if the including project has one)
#
# Installed with noiseformer's package and used by noiseformerConfig.cmake, so a consumer links
# the same BLAS the package was built against.

set(_nf_openblas_inc_hints "")
set(_nf_openblas_lib_hints "")
# Debian/Ubuntu multiarch layout (CMAKE_LIBRARY_ARCHITECTURE is e.g. x86_64-linux-gnu).
foreach(_prefix /usr /usr/local)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND _nf_openblas_inc_hints ${_prefix}/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp)
    list(APPEND _nf_openblas_lib_hints ${_prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp)
  endif()
  list(APPEND _nf_openblas_inc_hints ${_prefix}/include/openblas-openmp)
  list(APPEND _nf_openblas_lib_hints ${_prefix}/lib/openblas-openmp ${_prefix}/lib64/openblas-openmp)
endforeach()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_OpenBLAS QUIET openblas)
  if(PC_OpenBLAS_FOUND)
    list(APPEND _nf_openblas_inc_hints ${PC_OpenBLAS_INCLUDE_DIRS})
    list(APPEND _nf_openblas_lib_hints ${PC_OpenBLAS_LIBRARY_DIRS})
  endif()
endif()

find_path(OpenBLAS_INCLUDE_DIR NAMES cblas.h
  HINTS ${_nf_openblas_inc_hints}
  PATH_SUFFIXES openblas
  DOC "Directory holding OpenBLAS's cblas.h")
find_library(OpenBLAS_LIBRARY NAMES openblas
  HINTS ${_nf_openblas_lib_hints}
  DOC "OpenBLAS library (the OpenMP build preferred)")
mark_as_advanced(OpenBLAS_INCLUDE_DIR OpenBLAS_LIBRARY)

set(OpenBLAS_IS_OPENMP FALSE)
if(OpenBLAS_LIBRARY)
  get_filename_component(_nf_openblas_real "${OpenBLAS_LIBRARY}" REALPATH)
  if(_nf_openblas_real MATCHES "openmp")
    set(OpenBLAS_IS_OPENMP TRUE)
  elseif(PC_OpenBLAS_FOUND)
    # Elsewhere: pkg-config's openblas_config says how its libopenblas was built.
    pkg_get_variable(_nf_openblas_cfg openblas openblas_config)
    foreach(_nf_openblas_dir ${PC_OpenBLAS_LIBRARY_DIRS})
      get_filename_component(_nf_openblas_pc_real "${_nf_openblas_dir}/libopenblas.so" REALPATH)
      if(_nf_openblas_cfg MATCHES "USE_OPENMP=1" AND _nf_openblas_pc_real STREQUAL _nf_openblas_real)
        set(OpenBLAS_IS_OPENMP TRUE)
      endif()
    endforeach()
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLAS
  REQUIRED_VARS OpenBLAS_LIBRARY OpenBLAS_INCLUDE_DIR
  FAIL_MESSAGE "OpenBLAS not found (Debian: apt-get install libopenblas-openmp-dev, or run scripts/install-deps.sh, or elsewhere set OpenBLAS_ROOT)")

if(OpenBLAS_FOUND)
  set(OpenBLAS_INCLUDE_DIRS ${OpenBLAS_INCLUDE_DIR})
  set(OpenBLAS_LIBRARIES ${OpenBLAS_LIBRARY})
  if(NOT TARGET OpenBLAS::OpenBLAS)
    add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
    set_target_properties(OpenBLAS::OpenBLAS PROPERTIES
      IMPORTED_LOCATION "${OpenBLAS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIR}")
  endif()
endif()

unset(_nf_openblas_inc_hints)
unset(_nf_openblas_lib_hints)
unset(_nf_openblas_real)
unset(_nf_openblas_dir)
unset(_nf_openblas_cfg)
unset(_nf_openblas_pc_real)
