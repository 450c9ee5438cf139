# Fuzz regression tests for the normal build (label fuzz-regress): every
# harness built with the replay driver and run over its committed seed
# corpus and every input that ever crashed it:
#   corpus/<target>/  and  corpus/regressions/<target>/
# Included from core/tests/CMakeLists.txt, so the dev and asan-ubsan presets
# (scripts/test) both run it; under asan-ubsan the replay is sanitized.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/fault.cmake)

add_library(imc_fuzz_regress_common STATIC ${IMC_FUZZ_DIR}/fuzz_common.c ${IMC_FUZZ_DIR}/fuzz_forge.c
  ${IMC_FUZZ_DIR}/fuzz_dirforge.c ${IMC_FUZZ_DIR}/fuzz_kt_forge.c)
target_link_libraries(imc_fuzz_regress_common PUBLIC imcore)
# (${PROJECT_SOURCE_DIR}/core/src: dir_state_parse reads the client's
# private contact codec, core/src/dir/dir_impl.h.)
target_include_directories(imc_fuzz_regress_common PUBLIC ${IMC_FUZZ_DIR}
  ${PROJECT_SOURCE_DIR}/core/src)
target_compile_definitions(imc_fuzz_regress_common PUBLIC FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
imc_target_warnings(imc_fuzz_regress_common)

foreach(t ${IMC_FUZZ_TARGETS})
  add_executable(fuzz_${t}_regress ${IMC_FUZZ_DIR}/fuzz_${t}.c ${IMC_FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_${t}_regress PRIVATE imc_fuzz_regress_common)
  imc_fuzz_fault(fuzz_${t}_regress)
  imc_target_warnings(fuzz_${t}_regress)
  add_test(NAME fuzz_regress_${t}
    COMMAND fuzz_${t}_regress --require ${IMC_CORPUS_DIR}/${t} ${IMC_CORPUS_DIR}/regressions/${t})
  set_tests_properties(fuzz_regress_${t} PROPERTIES LABELS fuzz-regress TIMEOUT 120)
endforeach()

# .clusterfuzzlite/build.sh under OSS-Fuzz's variables: every target and its
# seed corpus zip must land in $OUT (skipped without clang's libFuzzer).
add_test(NAME fuzz_cflite_build COMMAND bash ${IMC_FUZZ_DIR}/test_cflite_build.sh)
set_tests_properties(fuzz_cflite_build PROPERTIES LABELS fuzz-regress TIMEOUT 600
  SKIP_RETURN_CODE 77)
