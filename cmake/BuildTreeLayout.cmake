# The build tree is laid out like an install prefix where the CLI looks relative to itself
# (bin/voxinfer -> ../share/voxinfer/...), so build/bin/voxinfer finds the shipped models and
# the Python package with no environment variable and no source path compiled in:
#   build/share/voxinfer/models/<model>.vxm, .md  -> weights/ (symbolic links)
#   build/share/voxinfer/models/*.pipeline.json   -> weights/ (the pipelines naming those models)
#   build/share/voxinfer/python/voxinfer          -> bindings/python/voxinfer
# cmake/Install.cmake installs the same files to the same relative places.
file(GLOB VX_SHIPPED_MODELS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/weights/*.vxm)
set(VX_SHIPPED_MODEL_FILES)
foreach(vxm ${VX_SHIPPED_MODELS})
  string(REGEX REPLACE "\\.vxm$" ".md" card ${vxm})
  list(APPEND VX_SHIPPED_MODEL_FILES ${vxm})
  if(EXISTS ${card})
    list(APPEND VX_SHIPPED_MODEL_FILES ${card})  # the model card
  endif()
endforeach()
file(GLOB VX_SHIPPED_PIPELINES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/weights/*.pipeline.json)
list(APPEND VX_SHIPPED_MODEL_FILES ${VX_SHIPPED_PIPELINES})

set(VX_BUILD_SHARE ${CMAKE_BINARY_DIR}/share/voxinfer)
file(MAKE_DIRECTORY ${VX_BUILD_SHARE}/models ${VX_BUILD_SHARE}/python)
foreach(f ${VX_SHIPPED_MODEL_FILES})
  get_filename_component(name ${f} NAME)
  file(CREATE_LINK ${f} ${VX_BUILD_SHARE}/models/${name} SYMBOLIC)
endforeach()
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/bindings/python/voxinfer ${VX_BUILD_SHARE}/python/voxinfer SYMBOLIC)
