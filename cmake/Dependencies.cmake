# Finds every dependency from Debian packages. A missing one stops configuration with
# the name of the package that provides it (scripts/install-deps.sh installs them all).

function(vx_missing what package)
  message(FATAL_ERROR "voxinfer: ${what} not found. Install the Debian package '${package}' "
                      "(or run: sudo bash scripts/install-deps.sh)")
endfunction()

find_package(Threads REQUIRED)
find_package(OpenMP QUIET)
if(NOT OpenMP_CXX_FOUND)
  vx_missing("OpenMP" "libgomp1 (part of g++)")
endif()

find_package(Eigen3 3.3 QUIET NO_MODULE)
if(NOT TARGET Eigen3::Eigen)
  vx_missing("Eigen3" "libeigen3-dev")
endif()

find_package(dnnl QUIET)
if(NOT TARGET DNNL::dnnl)
  vx_missing("oneDNN (dnnl)" "libdnnl-dev")
endif()

find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(NOT OpenCV_FOUND)
  vx_missing("OpenCV" "libopencv-dev")
endif()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  vx_missing("zlib" "zlib1g-dev")
endif()

# Debian's NIFTI CMake config points at a missing libznz path, so find the pieces by hand.
find_path(NIFTI_INCLUDE_DIR nifti2_io.h PATH_SUFFIXES nifti)
find_library(NIFTI2_LIBRARY nifti2)
find_library(ZNZ_LIBRARY znz)
if(NOT NIFTI_INCLUDE_DIR OR NOT NIFTI2_LIBRARY)
  vx_missing("nifti_clib (nifti2_io.h, libnifti2)" "libnifti2-dev")
endif()
if(NOT ZNZ_LIBRARY)
  vx_missing("znzlib (libznz)" "libznz-dev")
endif()
add_library(vx_nifti INTERFACE)
target_include_directories(vx_nifti INTERFACE ${NIFTI_INCLUDE_DIR})
target_link_libraries(vx_nifti INTERFACE ${NIFTI2_LIBRARY} ${ZNZ_LIBRARY} ZLIB::ZLIB m)

# GDCM (DICOM). Debian's GDCMConfig.cmake drags in VTK targets, so find the pieces by hand.
find_path(GDCM_INCLUDE_DIR gdcmImageReader.h PATH_SUFFIXES gdcm-3.0)
set(VX_GDCM_LIBS)
foreach(lib gdcmMSFF gdcmDICT gdcmIOD gdcmDSED gdcmCommon)
  find_library(${lib}_LIBRARY ${lib})
  if(NOT ${lib}_LIBRARY)
    vx_missing("GDCM (${lib})" "libgdcm-dev")
  endif()
  list(APPEND VX_GDCM_LIBS ${${lib}_LIBRARY})
endforeach()
if(NOT GDCM_INCLUDE_DIR)
  vx_missing("GDCM headers (gdcmImageReader.h)" "libgdcm-dev")
endif()
add_library(vx_gdcm INTERFACE)
target_include_directories(vx_gdcm SYSTEM INTERFACE ${GDCM_INCLUDE_DIR})
target_link_libraries(vx_gdcm INTERFACE ${VX_GDCM_LIBS})

# OpenJPEG: JPEG 2000 pixel data is decoded with it directly (lib/io/dicom_j2k.cpp), not
# through GDCM's JPEG2000Codec. Only the I/O layer's file includes it (its include path is set
# on that source alone, in Libraries.cmake); 2.5 is the ABI of Debian's libopenjp2.so.7.
find_path(OPENJPEG_INCLUDE_DIR openjpeg.h PATHS /usr/include/openjpeg-2.5 PATH_SUFFIXES openjpeg-2.5 NO_DEFAULT_PATH)
if(NOT OPENJPEG_INCLUDE_DIR)
  find_path(OPENJPEG_INCLUDE_DIR openjpeg.h PATH_SUFFIXES openjpeg-2.5)
endif()
find_library(OPENJP2_LIBRARY openjp2)
if(NOT OPENJPEG_INCLUDE_DIR OR NOT OPENJP2_LIBRARY)
  vx_missing("OpenJPEG 2.5 (openjpeg.h, libopenjp2)" "libopenjp2-7-dev")
endif()

find_package(nlohmann_json 3 QUIET)
if(NOT TARGET nlohmann_json::nlohmann_json)
  vx_missing("nlohmann_json" "nlohmann-json3-dev")
endif()

if(VX_BUILD_TESTS)
  find_package(doctest QUIET)
  if(NOT TARGET doctest::doctest)
    vx_missing("doctest" "doctest-dev")
  endif()
endif()

if(VX_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT TARGET benchmark::benchmark)
    vx_missing("Google Benchmark" "libbenchmark-dev")
  endif()
endif()
