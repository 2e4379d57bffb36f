# Fails unless README.md shows the code between the README markers of
# readme_example.cpp verbatim. Run with -DREADME=... -DEXAMPLE=...
file(READ "${EXAMPLE}" example)
string(REGEX MATCH "// README-BEGIN\n(.*)// README-END" _ "${example}")
set(snippet "${CMAKE_MATCH_1}")
if(snippet STREQUAL "")
  message(FATAL_ERROR "no README-BEGIN/README-END region in ${EXAMPLE}")
endif()
file(READ "${README}" readme)
string(FIND "${readme}" "${snippet}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "README.md does not show the code of ${EXAMPLE} "
                      "between the README markers: copy it over")
endif()
message(STATUS "README.md shows ${EXAMPLE} verbatim")
