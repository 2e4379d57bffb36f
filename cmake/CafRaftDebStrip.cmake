# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): strips the debug
# information from the staged static libraries, as Debian's dh_strip does for
# a -dev package (--strip-debug keeps the symbol table an archive needs).
# The build tree's libraries keep theirs.
file(GLOB_RECURSE _caf_raft_archives "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.a")
foreach(archive ${_caf_raft_archives})
  execute_process(COMMAND ${CPACK_CAF_RAFT_STRIP} --strip-debug
                          --enable-deterministic-archives ${archive}
                  RESULT_VARIABLE _caf_raft_strip_status)
  if(NOT _caf_raft_strip_status EQUAL 0)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed")
  endif()
endforeach()
