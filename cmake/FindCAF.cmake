# Imported targets CAF::core, CAF::io and CAF::openssl for Debian's libcaf-dev
# (CAF 0.17.6), which ships headers and libraries but no CMake package.
#
#   find_package(CAF [REQUIRED] [COMPONENTS core io openssl])
#
# Without COMPONENTS all three are looked for. Sets CAF_FOUND and
# CAF_<component>_FOUND. Installed with caf_raft's CMake package, whose
# config finds CAF through it (find_dependency), the same way this tree does.
set(_caf_components ${CAF_FIND_COMPONENTS})
if(NOT _caf_components)
  set(_caf_components core io openssl)
endif()
# openssl needs io, io needs core.
if("openssl" IN_LIST _caf_components)
  list(APPEND _caf_components io)
endif()
list(APPEND _caf_components core)
list(REMOVE_DUPLICATES _caf_components)

find_path(CAF_INCLUDE_DIR caf/all.hpp)
foreach(component ${_caf_components})
  find_library(CAF_${component}_LIBRARY caf_${component})
  if(CAF_INCLUDE_DIR AND CAF_${component}_LIBRARY)
    set(CAF_${component}_FOUND TRUE)
  else()
    set(CAF_${component}_FOUND FALSE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_core_LIBRARY
  HANDLE_COMPONENTS)

if(CAF_FOUND)
  foreach(component ${_caf_components})
    if(CAF_${component}_FOUND AND NOT TARGET CAF::${component})
      add_library(CAF::${component} SHARED IMPORTED)
      set_target_properties(CAF::${component} PROPERTIES
        IMPORTED_LOCATION ${CAF_${component}_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR})
      if(component STREQUAL "io")
        set_property(TARGET CAF::io APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
      elseif(component STREQUAL "openssl")
        set_property(TARGET CAF::openssl APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::io)
      endif()
    endif()
  endforeach()
endif()
unset(_caf_components)
