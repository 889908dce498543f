# The libraries, built from layers. Each layer is an OBJECT library whose include paths are
# PRIVATE, so a file reaches only the layers its target names (tests/build/test_include_layers.py
# checks the include graph file by file):
#   vx_kernels  kernels/, kernels/ref, kernels/cpu                 (sees: kernels/)
#   vx_engine   lib/ except lib/pipeline                            (sees: lib/, the kernel table)
#   vx_capi     capi/ except the examination's files                (sees: capi/, lib/, include/)
#   vx_app      lib/pipeline, capi/exam_capi.cpp, pipeline_entry    (sees: all of the above)
# Every object is compiled once and linked into:
#   libvoxinfer.so           the engine (kernels + engine + C API); no OpenCV
#   libvoxinfer_pipeline.so  the application layer (examinations, PNG montages), with OpenCV
#   libvoxinfer.a            everything, for the tests, benchmarks and the CLI (not installed)

# The kernel table: what lib/ may include from kernels/ (kernel_table.h, params.h, shape.h...).
add_library(vx_kernel_api INTERFACE)
target_include_directories(vx_kernel_api INTERFACE ${PROJECT_SOURCE_DIR}/kernels)

file(GLOB VX_KERNEL_SOURCES CONFIGURE_DEPENDS kernels/*.cpp kernels/ref/*.cpp kernels/cpu/*.cpp)
# kernels/cpu: each ISA in its own files, with its own flags (never on shared code).
file(GLOB VX_AVX512_SOURCES CONFIGURE_DEPENDS kernels/cpu/*_avx512.cpp)
# -ffp-contract=off: FMAs only where the code asks for them, so mul+add rounds as the reference.
# -Wno-maybe-uninitialized: GCC 12.2 warns inside its own AVX-512 intrinsics (GCC bug 105593).
set_source_files_properties(${VX_AVX512_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx2;-mfma;-ffp-contract=off;-Wno-maybe-uninitialized")
add_library(vx_kernels OBJECT ${VX_KERNEL_SOURCES})
target_link_libraries(vx_kernels PRIVATE vx_kernel_api OpenMP::OpenMP_CXX Threads::Threads Eigen3::Eigen DNNL::dnnl)

file(GLOB_RECURSE VX_LIB_SOURCES CONFIGURE_DEPENDS lib/*.cpp)
set(VX_APP_LIB_SOURCES ${VX_LIB_SOURCES})
list(FILTER VX_LIB_SOURCES EXCLUDE REGEX "/lib/(cli|pipeline)/")
list(FILTER VX_APP_LIB_SOURCES INCLUDE REGEX "/lib/pipeline/")
# The engine's dependencies (the shared library links them; the static one passes them on).
set(VX_ENGINE_DEPS OpenMP::OpenMP_CXX Threads::Threads Eigen3::Eigen DNNL::dnnl vx_nifti vx_gdcm ZLIB::ZLIB
    ${OPENJP2_LIBRARY} nlohmann_json::nlohmann_json ${CMAKE_DL_LIBS})
# OpenJPEG's header is seen by the I/O layer's JPEG 2000 decoder only.
set_source_files_properties(${PROJECT_SOURCE_DIR}/lib/io/dicom_j2k.cpp PROPERTIES INCLUDE_DIRECTORIES ${OPENJPEG_INCLUDE_DIR})
add_library(vx_engine OBJECT ${VX_LIB_SOURCES})
target_include_directories(vx_engine PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_link_libraries(vx_engine PRIVATE vx_kernel_api ${VX_ENGINE_DEPS})

# The C API. The examination's functions live in the application layer; libvoxinfer.so has
# forwarders for them (capi/exam_forward.cpp) that load libvoxinfer_pipeline.so on first use.
set(VX_APP_CAPI_SOURCES ${PROJECT_SOURCE_DIR}/capi/exam_capi.cpp ${PROJECT_SOURCE_DIR}/capi/pipeline_entry.cpp)
set(VX_FORWARD_SOURCES ${PROJECT_SOURCE_DIR}/capi/exam_forward.cpp)
file(GLOB VX_CAPI_SOURCES CONFIGURE_DEPENDS capi/*.cpp)
list(REMOVE_ITEM VX_CAPI_SOURCES ${VX_APP_CAPI_SOURCES} ${VX_FORWARD_SOURCES})
add_library(vx_capi OBJECT ${VX_CAPI_SOURCES})
target_include_directories(vx_capi PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(vx_capi PRIVATE vx_kernel_api ${VX_ENGINE_DEPS})
target_compile_definitions(vx_capi PRIVATE VX_BUILDING_LIBRARY)
add_library(vx_capi_forward OBJECT ${VX_FORWARD_SOURCES})
target_include_directories(vx_capi_forward PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(vx_capi_forward PRIVATE VX_BUILDING_LIBRARY)

add_library(vx_app OBJECT ${VX_APP_LIB_SOURCES} ${VX_APP_CAPI_SOURCES})
target_include_directories(vx_app PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/include)
target_include_directories(vx_app SYSTEM PRIVATE ${OpenCV_INCLUDE_DIRS})
target_link_libraries(vx_app PRIVATE vx_kernel_api ${VX_ENGINE_DEPS})
target_compile_definitions(vx_app PRIVATE VX_BUILDING_LIBRARY)

set(VX_ENGINE_OBJECTS $<TARGET_OBJECTS:vx_kernels> $<TARGET_OBJECTS:vx_engine> $<TARGET_OBJECTS:vx_capi>)

# Every include path of the tree, for code that reaches internals: the tests, benchmarks, CLI.
add_library(vx_internals INTERFACE)
target_include_directories(vx_internals INTERFACE
  ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/kernels)
target_include_directories(vx_internals SYSTEM INTERFACE ${OpenCV_INCLUDE_DIRS})

# Static: everything (engine + application), for the tests, benchmarks and the CLI.
add_library(voxinfer_static STATIC ${VX_ENGINE_OBJECTS} $<TARGET_OBJECTS:vx_app>)
target_link_libraries(voxinfer_static PUBLIC vx_internals ${VX_ENGINE_DEPS} ${OpenCV_LIBS})
set_target_properties(voxinfer_static PROPERTIES OUTPUT_NAME voxinfer)

# Shared engine: only vx_* symbols leave it (hidden visibility + version script).
add_library(voxinfer SHARED ${VX_ENGINE_OBJECTS} $<TARGET_OBJECTS:vx_capi_forward>)
add_library(voxinfer::voxinfer ALIAS voxinfer)
target_link_libraries(voxinfer PRIVATE ${VX_ENGINE_DEPS})
target_include_directories(voxinfer PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(voxinfer PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${PROJECT_SOURCE_DIR}/capi/voxinfer.map)
target_link_options(voxinfer PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/capi/voxinfer.map)

# Shared application layer: its own copy of the engine's objects (libvoxinfer.so exports only
# the C API, not the C++ internals the pipelines use), all of it local but the entry table.
add_library(voxinfer_pipeline SHARED ${VX_ENGINE_OBJECTS} $<TARGET_OBJECTS:vx_app>)
add_library(voxinfer::pipeline ALIAS voxinfer_pipeline)
target_link_libraries(voxinfer_pipeline PRIVATE ${VX_ENGINE_DEPS} ${OpenCV_LIBS})
set_target_properties(voxinfer_pipeline PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${PROJECT_SOURCE_DIR}/capi/pipeline.map)
target_link_options(voxinfer_pipeline PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/capi/pipeline.map)
# Built with the engine, so vx_exam_* work from the build tree (libvoxinfer.so finds it beside itself).
add_dependencies(voxinfer voxinfer_pipeline)

if(NOT VX_SANITIZE AND NOT VX_FUZZ)
  # Sanitized builds leave the runtime's symbols to the executable (clang links it there only).
  target_link_options(voxinfer PRIVATE -Wl,--no-undefined)
  target_link_options(voxinfer_pipeline PRIVATE -Wl,--no-undefined)
endif()

# The header's version is what vx_version() returns: it must be the project's.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/voxinfer/voxinfer.h VX_HEADER_VERSION REGEX "^#define VX_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "[^;]*MAJOR ([0-9]+);[^;]*MINOR ([0-9]+);[^;]*PATCH ([0-9]+)" "\\1.\\2.\\3" VX_HEADER_VERSION "${VX_HEADER_VERSION}")
if(NOT VX_HEADER_VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/voxinfer/voxinfer.h says version ${VX_HEADER_VERSION}, CMakeLists.txt ${PROJECT_VERSION}")
endif()
