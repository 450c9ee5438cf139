# Fault injection (fuzz_fault.c) for a fuzz executable: its wrappers
# compiled into it and the library's LMDB calls and allocations routed
# through them. imc_fuzz_fault(<target>)
set(IMC_FUZZ_WRAPPED mdb_env_open mdb_txn_begin mdb_txn_commit mdb_dbi_open mdb_get mdb_put
    mdb_del mdb_cursor_open mdb_cursor_get malloc calloc realloc)
function(imc_fuzz_fault exe)
  target_sources(${exe} PRIVATE ${IMC_FUZZ_DIR}/fuzz_fault.c)
  target_link_libraries(${exe} PRIVATE PkgConfig::LMDB)
  foreach(f ${IMC_FUZZ_WRAPPED})
    target_link_options(${exe} PRIVATE "LINKER:--wrap=${f}")
  endforeach()
endfunction()
