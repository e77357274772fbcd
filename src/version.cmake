# Writes the provenance header (version and git commit) for every build, not only at configure
# time: run by the rfmseg_version target with -DSOURCE_DIR= -DINPUT= -DOUTPUT= -DPROJECT_VERSION=
# and the build description -DBUILD_TYPE= -DCOMPILER= -DBUILD_FLAGS= (for `rfmseg --version`).
# configure_file leaves OUTPUT untouched when nothing changed, so only a new commit (or a change
# between clean and dirty) recompiles what includes it.
set(RFMSEG_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD
                  WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE RFMSEG_GIT_COMMIT
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  execute_process(COMMAND "${GIT_EXECUTABLE}" diff --quiet HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                  RESULT_VARIABLE dirty ERROR_QUIET)
  if(dirty)
    string(APPEND RFMSEG_GIT_COMMIT "-dirty")
  endif()
endif()
# The build description becomes C string literals: backslashes and quotes escaped.
foreach(item IN ITEMS BUILD_TYPE COMPILER BUILD_FLAGS)
  string(REPLACE "\\" "\\\\" value "${${item}}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REGEX REPLACE "[ \t\r\n]+" " " value "${value}")
  string(STRIP "${value}" RFMSEG_${item})
endforeach()
configure_file("${INPUT}" "${OUTPUT}" @ONLY)
