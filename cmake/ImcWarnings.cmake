# Warnings for every imcore target: on and clean; errors under IMC_WERROR.
set(IMC_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wvla -Wcast-qual
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
if(IMC_WERROR)
  list(APPEND IMC_WARNINGS -Werror)
endif()

function(imc_target_warnings target)
  target_compile_options(${target} PRIVATE ${IMC_WARNINGS})
endfunction()
