# `cmake --install build --prefix P` puts under P:
#   include/voxinfer/voxinfer.h, voxinfer.hpp     the public C (and header-only C++) API
#   <libdir>/libvoxinfer.so.0.3.0 (+ .so.0, .so)  the engine          (SONAME libvoxinfer.so.0)
#   <libdir>/libvoxinfer_pipeline.so.0.3.0 ...    the application layer (loaded by vx_exam_*)
#   <libdir>/cmake/voxinfer/                      find_package(voxinfer): voxinfer::voxinfer, voxinfer::pipeline
#   <libdir>/pkgconfig/voxinfer.pc, voxinfer_pipeline.pc
#   bin/voxinfer                                  the CLI
#   share/voxinfer/models/*.vxm, *.md             the shipped demo models and their cards
#   share/voxinfer/models/*.pipeline.json         the pipelines naming them (weights/FORMAT.md)
#   share/voxinfer/python/voxinfer                the Python package the CLI's `cohort` runs
# The Python and R bindings install separately, against this prefix (README, "Install").
include(CMakePackageConfigHelpers)

set(VX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/voxinfer)
set_target_properties(voxinfer_pipeline PROPERTIES EXPORT_NAME pipeline)
# A consumer of voxinfer::pipeline calls vx_exam_* through the engine (the header and the
# forwarders); the dependency makes the application library a declared, packaged part.
target_link_libraries(voxinfer_pipeline INTERFACE voxinfer)
install(TARGETS voxinfer voxinfer_pipeline EXPORT voxinferTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/voxinfer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT voxinferTargets NAMESPACE voxinfer:: DESTINATION ${VX_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/templates/voxinferConfig.cmake.in ${CMAKE_BINARY_DIR}/voxinferConfig.cmake
  INSTALL_DESTINATION ${VX_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/voxinferConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/voxinferConfig.cmake ${CMAKE_BINARY_DIR}/voxinferConfigVersion.cmake
  DESTINATION ${VX_CMAKE_DIR} COMPONENT dev)

# pkg-config files, relocatable: the prefix is found from the .pc file's own folder.
set(VX_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH VX_PC_TO_PREFIX /prefix/${VX_PC_DIR} /prefix)
foreach(pc voxinfer voxinfer_pipeline)
  configure_file(cmake/templates/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${VX_PC_DIR} COMPONENT dev)
endforeach()

if(TARGET voxinfer_cli)
  install(TARGETS voxinfer_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()
install(FILES ${VX_SHIPPED_MODEL_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/voxinfer/models COMPONENT runtime)
install(DIRECTORY bindings/python/voxinfer DESTINATION ${CMAKE_INSTALL_DATADIR}/voxinfer/python COMPONENT runtime
  PATTERN __pycache__ EXCLUDE)
if(VX_HAVE_CUDA)
  # Next to libvoxinfer.so, where the loader looks first; OPTIONAL: a build may skip the module.
  install(TARGETS voxinfer_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime OPTIONAL)
endif()
