# Install rules (included by CMakeLists.txt when NOISEFORMER_INSTALL is on). Layout:
#   <prefix>/bin/noiseformer                                  the CLI
#   <prefix>/include/noiseformer/noiseformer.h                umbrella header (all public API)
#   <prefix>/include/noiseformer/version.h                    NOISEFORMER_VERSION (generated)
#   <prefix>/include/noiseformer/<layer>/*.h                  each folder's headers, as in the repo
#   <prefix>/<libdir>/libnf_<layer>.a                         one static library per folder
#   <prefix>/<libdir>/cmake/noiseformer/                      noiseformerConfig.cmake (+ Version,
#                                                             Targets, FindOpenBLAS.cmake)
#   <prefix>/<libdir>/pkgconfig/noiseformer.pc
# The headers include each other as "tensor/tensor.h", so consumers get both <prefix>/include and
# <prefix>/include/noiseformer on their include path (the exported targets and the .pc add both).
include(CMakePackageConfigHelpers)

set(NF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/noiseformer)

# ---- headers ---------------------------------------------------------------------------------
foreach(folder ${NF_LAYERS})
  set(exclude "")
  if(NOT NOISEFORMER_CUDA)
    set(exclude PATTERN cuda EXCLUDE)
  endif()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/noiseformer
          FILES_MATCHING PATTERN "*.h" ${exclude})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/noiseformer/noiseformer.h
              ${PROJECT_BINARY_DIR}/include/noiseformer/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/noiseformer)

# ---- libraries, the umbrella target and the CLI ----------------------------------------------
set(NF_EXPORTED ${NF_LAYER_TARGETS} nf_noiseformer)
if(TARGET nfcuda)
  list(APPEND NF_EXPORTED nfcuda)
  set_target_properties(nfcuda PROPERTIES EXPORT_NAME cuda)
endif()
install(TARGETS ${NF_EXPORTED} EXPORT noiseformerTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# OpenBLAS's OpenMP build lives outside the loader's default paths on Debian (its plain
# libopenblas.so.0 may be the pthread build): keep the directories the CLI was linked against
# as its installed RPATH, as the build tree's binary has them.
set_target_properties(noiseformer PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS noiseformer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---- CMake package ---------------------------------------------------------------------------
install(EXPORT noiseformerTargets NAMESPACE noiseformer:: DESTINATION ${NF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/noiseformerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/noiseformerConfig.cmake
  INSTALL_DESTINATION ${NF_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/noiseformerConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/noiseformerConfig.cmake
              ${PROJECT_BINARY_DIR}/noiseformerConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindOpenBLAS.cmake
        DESTINATION ${NF_CMAKE_DIR})

# ---- pkg-config ------------------------------------------------------------------------------
# prefix = ${pcfiledir}/../.. (one ".." per component of <libdir>/pkgconfig), so the file stays
# right whatever --prefix `cmake --install` is given.
string(REGEX REPLACE "[^/]+" ".." NF_PC_RELATIVE_PREFIX "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
set(NF_PC_LIBS "")
foreach(layer cli study glue train dist data io optim models nn autograd tensor)  # dependents first
  string(APPEND NF_PC_LIBS " -lnf_${layer}")
endforeach()
set(NF_PC_CFLAGS "${OpenMP_CXX_FLAGS}")
set(NF_PC_CUDA_NOTE "")
if(TARGET nfcuda)
  string(APPEND NF_PC_LIBS " -lnfcuda -L${CUDAToolkit_LIBRARY_DIR} -Wl,-rpath,${CUDAToolkit_LIBRARY_DIR} -lcublas -lcudart")
  string(APPEND NF_PC_CFLAGS " -DNOISEFORMER_CUDA=1")
  set(NF_PC_CUDA_NOTE ", the CUDA runtime and cuBLAS")
endif()
set(NF_PC_MPI_NOTE "")
if(NF_WITH_MPI)
  foreach(lib ${MPI_CXX_LIBRARIES})
    string(APPEND NF_PC_LIBS " ${lib}")
  endforeach()
  string(APPEND NF_PC_CFLAGS " -DNOISEFORMER_MPI=1")
  foreach(dir ${MPI_CXX_INCLUDE_DIRS})
    string(APPEND NF_PC_CFLAGS " -I${dir}")
  endforeach()
  set(NF_PC_MPI_NOTE ", MPI")
endif()
get_filename_component(nf_openblas_dir "${OpenBLAS_LIBRARY}" DIRECTORY)
string(APPEND NF_PC_LIBS " -L${nf_openblas_dir} -Wl,-rpath,${nf_openblas_dir} -lopenblas ${OpenMP_CXX_FLAGS}")
string(STRIP "${NF_PC_LIBS}" NF_PC_LIBS)
configure_file(${PROJECT_SOURCE_DIR}/cmake/noiseformer.pc.in ${PROJECT_BINARY_DIR}/noiseformer.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/noiseformer.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
