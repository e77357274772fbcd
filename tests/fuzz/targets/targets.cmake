# The libFuzzer targets: each is fuzz_<name>.cpp beside this file, built with the project sources
# listed here (pure functions only: no MPI, no HDF5), with a seed corpus in tests/fuzz/corpus/<name>/
# and optionally a dictionary tests/fuzz/dict/<name>.dict. Included by CMakeLists.txt beside this
# file (builds them with clang) and by tests/fuzz/CMakeLists.txt (one CTest test per target).
#
# To add a target: write fuzz_<name>.cpp, add <name> and its sources below, commit a few seeds.

get_filename_component(RFMSEG_FUZZ_ROOT "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

set(RFMSEG_FUZZ_TARGETS csv date number)
set(RFMSEG_FUZZ_SOURCES_csv src/core/csv.cpp)
set(RFMSEG_FUZZ_SOURCES_date src/core/date.cpp)
set(RFMSEG_FUZZ_SOURCES_number src/core/number.cpp)

# normalize_customer_id is defined in src/io/ingest.cpp, whose header and neighbours need MPI; the
# target is built once the function lives in a source of its own (src/core/customer_id.cpp, declared
# in include/rfmseg/customer_id.hpp).
if(EXISTS "${RFMSEG_FUZZ_ROOT}/src/core/customer_id.cpp")
  list(APPEND RFMSEG_FUZZ_TARGETS customer_id)
  set(RFMSEG_FUZZ_SOURCES_customer_id src/core/customer_id.cpp src/core/csv.cpp)
endif()
