# The fuzz targets: one harness fuzz_<name>.c each. Shared by
# fuzz/CMakeLists.txt (the fuzzing builds) and fuzz/regress.cmake (the
# replay tests of the normal build).
set(IMC_FUZZ_TARGETS
  envelope_parse
  delivery_parse
  decrypt
  roundtrip
  backend_diff
  keys_parse
  kt_note
  kt_proof
  replay
  mdb_file
  auto_profile
)
# The key-directory targets, once the directory module is in the library.
if(EXISTS ${PROJECT_SOURCE_DIR}/core/include/imcore/dir.h
   AND EXISTS ${PROJECT_SOURCE_DIR}/core/include/imcore/dircache.h
   AND EXISTS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_dir_ops.c)
  list(APPEND IMC_FUZZ_TARGETS dir_response_parse dir_update_parse dir_ops
       dir_state_parse dir_malicious dir_serve dir_kt_lookup dir_kt_audit
       kt_malicious)
endif()

set(IMC_FUZZ_DIR ${PROJECT_SOURCE_DIR}/fuzz)
set(IMC_CORPUS_DIR ${PROJECT_SOURCE_DIR}/corpus)
