# imc_git_commit(VAR): the short commit of the source tree, with "-dirty"
# when tracked files outside results/ have uncommitted changes, or
# "unknown" without git. Recorded in the benchmark and scale reports.
# results/ is left out because it is what those programs write: a run
# resumed after its first results were written is still of a clean tree.
function(imc_git_commit var)
  set(commit "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND ${GIT_EXECUTABLE} rev-parse --short HEAD
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND head)
      set(commit "${head}")
      execute_process(
        COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no -- . ":(exclude)results"
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
        OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(dirty)
        string(APPEND commit "-dirty")
      endif()
    endif()
  endif()
  set(${var} "${commit}" PARENT_SCOPE)
endfunction()
