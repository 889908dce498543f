# A Debian package of what cmake/Install.cmake installs, under /usr:
#   cpack --config build/CPackConfig.cmake   ->  build/voxinfer_0.3.0_amd64.deb
# Its Depends come from dpkg-shlibdeps (the Debian packages of oneDNN, GDCM, nifti_clib, OpenCV...).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME voxinfer)
set(CPACK_PACKAGE_VENDOR voxinfer)
set(CPACK_PACKAGE_CONTACT "voxinfer maintainers <voxinfer@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Embeddable inference engine for medical-imaging deep learning (C API, CLI, shipped models)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
