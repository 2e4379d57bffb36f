# Imported targets CAF::core, CAF::io and CAF::openssl for Debian's libcaf-dev
# (CAF 0.17.6), which ships headers and libraries but no CMake package.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
foreach(component core io openssl)
  find_library(CAF_${component}_LIBRARY caf_${component} REQUIRED)
  if(NOT TARGET CAF::${component})
    add_library(CAF::${component} SHARED IMPORTED)
    set_target_properties(CAF::${component} PROPERTIES
      IMPORTED_LOCATION ${CAF_${component}_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR})
  endif()
endforeach()
set_property(TARGET CAF::io APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
set_property(TARGET CAF::openssl APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::io)
