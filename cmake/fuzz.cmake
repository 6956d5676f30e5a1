# Fuzz harnesses (tests/fuzz/): one per reader of outside bytes. Included
# at the end of tests/CMakeLists.txt.
#
# FOCAL_FUZZ=OFF (the normal build): each harness is compiled with
# tests/fuzz/replay.c, a main() that runs it on every file of its committed
# corpus and of its crashes folder, and registered as the test
# fuzz_replay_<harness>: the corpus and every past crash are regression tests.
#
# FOCAL_FUZZ=ON (clang only; scripts/fuzz.sh): the library's sources are
# compiled again into focal_fuzz_lib with -fsanitize=fuzzer-no-link,address,
# undefined, and each harness is linked with libFuzzer's main as fuzz_<harness>
# (target fuzz_all). The library's own targets are left as they are.
option(FOCAL_FUZZ "Build the libFuzzer harnesses of tests/fuzz (needs clang)" OFF)

set(FOCAL_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)
set(FOCAL_FUZZ_HARNESSES csv table rfmid npz idx image imgcache checkpoint optim netdesc runjson history
  metrics scores)

if(NOT FOCAL_FUZZ)
  foreach(name IN LISTS FOCAL_FUZZ_HARNESSES)
    add_executable(fuzz_${name} ${FOCAL_FUZZ_DIR}/${name}.c ${FOCAL_FUZZ_DIR}/replay.c)
    target_compile_options(fuzz_${name} PRIVATE ${FOCAL_WARN})
    target_link_libraries(fuzz_${name} PRIVATE focal_static)
    add_test(NAME fuzz_replay_${name}
      COMMAND fuzz_${name} ${FOCAL_FUZZ_DIR}/corpus/${name} ${FOCAL_FUZZ_DIR}/crashes/${name})
    set_tests_properties(fuzz_replay_${name} PROPERTIES PASS_REGULAR_EXPRESSION " 0 failed")
  endforeach()
  # Regenerates the seeds the library itself must make (see make_seeds.c).
  add_executable(fuzz_make_seeds ${FOCAL_FUZZ_DIR}/make_seeds.c)
  target_compile_options(fuzz_make_seeds PRIVATE ${FOCAL_WARN})
  target_link_libraries(fuzz_make_seeds PRIVATE focal_static)
  return()
endif()

if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "FOCAL_FUZZ needs clang (libFuzzer): configure with -DCMAKE_C_COMPILER=clang "
                      "(Debian: clang libclang-rt-14-dev libomp-dev), or run scripts/fuzz.sh")
endif()

# The library once more, instrumented: the same sources as focal_core_obj,
# focal_obj and the generic loss kernels, without oneDNN (not instrumented).
set(FOCAL_FUZZ_FLAGS -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=all)
set(FOCAL_FUZZ_LIB_SOURCES ${FOCAL_CORE_SOURCES} ${FOCAL_LIB_SOURCES} ${PROJECT_SOURCE_DIR}/src/loss/loss_kernels.c)
list(REMOVE_ITEM FOCAL_FUZZ_LIB_SOURCES ${PROJECT_SOURCE_DIR}/src/nn/conv_dnnl.c)
add_library(focal_fuzz_lib STATIC ${FOCAL_FUZZ_LIB_SOURCES})
target_include_directories(focal_fuzz_lib PRIVATE ${PROJECT_SOURCE_DIR}/src ${FOCAL_CBLAS_INCLUDE}
  ${FOCAL_CJSON_INCLUDE} ${FOCAL_SPNG_INCLUDE} ${FOCAL_TURBOJPEG_INCLUDE} ${ZLIB_INCLUDE_DIRS})
target_include_directories(focal_fuzz_lib PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(focal_fuzz_lib PRIVATE FOCAL_ISA=generic FOCAL_HAVE_DNNL=0)
target_compile_options(focal_fuzz_lib PRIVATE ${FOCAL_FUZZ_FLAGS} -Wall -Wextra -Wno-unknown-pragmas -Wno-pass-failed)
target_link_libraries(focal_fuzz_lib PUBLIC OpenMP::OpenMP_C m ${FOCAL_OPENBLAS} ${FOCAL_CJSON} ${FOCAL_SPNG}
  ${FOCAL_TURBOJPEG} ${ZLIB_LIBRARIES})

add_custom_target(fuzz_all)
foreach(name IN LISTS FOCAL_FUZZ_HARNESSES)
  add_executable(fuzz_${name} ${FOCAL_FUZZ_DIR}/${name}.c)
  target_compile_options(fuzz_${name} PRIVATE ${FOCAL_FUZZ_FLAGS} -Wall -Wextra)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_${name} PRIVATE focal_fuzz_lib)
  add_dependencies(fuzz_all fuzz_${name})
endforeach()
