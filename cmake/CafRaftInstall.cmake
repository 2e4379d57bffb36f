# Install rules (docs/install.md): headers, the libraries, the CMake package
# `caf_raft` with components (core: caf_raft::caf_raft; remote:
# caf_raft::remote; testing: caf_raft::testing), its version file, the
# pkg-config files and the .deb (cpack -G DEB). Included by the top-level
# CMakeLists.txt after every target exists.
include(CMakePackageConfigHelpers)

# Installing (and cpack) needs the libraries only, not the tests and
# examples that `all` builds: build the targets first (docs/install.md).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(CAF_RAFT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/caf_raft)
set(CAF_RAFT_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# -- headers ----------------------------------------------------------------------
set(_raft_header_excludes)
if(NOT TARGET raft_testing)
  list(APPEND _raft_header_excludes PATTERN testing EXCLUDE)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/raft
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT devel
        FILES_MATCHING PATTERN "*.hpp" ${_raft_header_excludes})

# -- targets, one export set per component -------------------------------------------
macro(_caf_raft_install_targets export)
  install(TARGETS ${ARGN} EXPORT ${export}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT devel)
  install(EXPORT ${export} NAMESPACE caf_raft:: DESTINATION ${CAF_RAFT_CMAKE_DIR}
          COMPONENT devel)
endmacro()

set_target_properties(caf_raft PROPERTIES EXPORT_NAME caf_raft)
_caf_raft_install_targets(caf_raft-targets raft_core raft_storage raft_actors caf_raft)

set(CAF_RAFT_HAS_REMOTE FALSE)
if(TARGET raft_remote)
  set(CAF_RAFT_HAS_REMOTE TRUE)
  set_target_properties(caf_raft_remote PROPERTIES EXPORT_NAME remote)
  _caf_raft_install_targets(caf_raft-remote-targets raft_wire raft_remote caf_raft_remote)
endif()

# The testing kit (src/testing/, include/raft/testing/) is a target of its
# own, raft_testing; exported as caf_raft::testing when it exists. Whatever
# it links must be exported too (not tests/support's raft_test_support).
set(CAF_RAFT_HAS_TESTING FALSE)
set(CAF_RAFT_TESTING_NEEDS_BOOST_TEST FALSE)
set(CAF_RAFT_TESTING_NEEDS_REMOTE FALSE)
if(TARGET raft_testing)
  set(CAF_RAFT_HAS_TESTING TRUE)
  set_target_properties(raft_testing PROPERTIES EXPORT_NAME testing)
  get_target_property(_raft_testing_type raft_testing TYPE)
  if(NOT _raft_testing_type STREQUAL "INTERFACE_LIBRARY")
    set_target_properties(raft_testing PROPERTIES OUTPUT_NAME caf_raft_testing)
  endif()
  get_target_property(_raft_testing_links raft_testing INTERFACE_LINK_LIBRARIES)
  if(_raft_testing_links MATCHES "Boost::unit_test_framework")
    set(CAF_RAFT_TESTING_NEEDS_BOOST_TEST TRUE)
  endif()
  if(_raft_testing_links MATCHES "raft_remote|caf_raft_remote|caf_raft::remote")
    set(CAF_RAFT_TESTING_NEEDS_REMOTE TRUE)
  endif()
  _caf_raft_install_targets(caf_raft-testing-targets raft_testing)
endif()

# -- the CMake package ---------------------------------------------------------------
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/caf_raftConfig.cmake.in
  ${PROJECT_BINARY_DIR}/caf_raftConfig.cmake
  INSTALL_DESTINATION ${CAF_RAFT_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/caf_raftConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/caf_raftConfig.cmake
              ${PROJECT_BINARY_DIR}/caf_raftConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
        DESTINATION ${CAF_RAFT_CMAKE_DIR} COMPONENT devel)

# -- pkg-config: caf_raft (in-process), caf_raft_remote ----------------------------
# Relocatable: the prefix is found from the .pc file's own place, so that
# `cmake --install build --prefix DIR` works as well as the .deb.
file(RELATIVE_PATH CAF_RAFT_PC_TO_PREFIX /root/${CAF_RAFT_PKGCONFIG_DIR} /root)
string(REGEX REPLACE "/$" "" CAF_RAFT_PC_TO_PREFIX "${CAF_RAFT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/caf_raft.pc.in
               ${PROJECT_BINARY_DIR}/caf_raft.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/caf_raft.pc
        DESTINATION ${CAF_RAFT_PKGCONFIG_DIR} COMPONENT devel)
if(CAF_RAFT_HAS_REMOTE)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/caf_raft_remote.pc.in
                 ${PROJECT_BINARY_DIR}/caf_raft_remote.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/caf_raft_remote.pc
          DESTINATION ${CAF_RAFT_PKGCONFIG_DIR} COMPONENT devel)
endif()

# -- the .deb: cpack -G DEB (in the build directory) ------------------------------
set(CPACK_PACKAGE_NAME libcaf-raft-dev)
set(CPACK_PACKAGE_VENDOR "caf-raft")
set(CPACK_PACKAGE_CONTACT "caf-raft developers <caf-raft@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Raft consensus for the C++ Actor Framework 0.17 (headers, static libraries)")
set(CPACK_PACKAGE_DESCRIPTION
    "caf-raft replicates a state machine over 3 or 5 members with Raft. This package holds the headers, the static libraries, the CMake package caf_raft (components remote and testing) and the pkg-config files caf_raft and caf_raft_remote.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# What the installed headers and libraries need to compile and link against.
set(CAF_RAFT_DEB_DEPENDS
    "libcaf-dev (>= 0.17.6)"
    "libboost-serialization-dev (>= 1.74)")
if(CAF_RAFT_HAS_REMOTE)
  list(APPEND CAF_RAFT_DEB_DEPENDS "libboost-dev (>= 1.74)" "libssl-dev (>= 3)")
endif()
if(CAF_RAFT_TESTING_NEEDS_BOOST_TEST)
  list(APPEND CAF_RAFT_DEB_DEPENDS "libboost-test-dev (>= 1.74)")
endif()
list(JOIN CAF_RAFT_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.16), pkg-config")
# The package's archives without debug information (see the script).
if(CMAKE_STRIP)
  set(CPACK_CAF_RAFT_STRIP ${CMAKE_STRIP})
  set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/CafRaftDebStrip.cmake)
endif()
set(CPACK_GENERATOR DEB)
include(CPack)
