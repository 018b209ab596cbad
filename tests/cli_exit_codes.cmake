# SPDX-License-Identifier: Apache-2.0
# trimtab's exit codes are 0 done, 1 failed, 2 bad usage, for every
# subcommand: the option parser's own codes (105, 106, 109, ...) must not
# leak out, since scripts test for 2. Run: cmake -DTRIMTAB=... -DSCENARIO=... -P
function(expect_exit want)
  execute_process(COMMAND ${TRIMTAB} ${ARGN} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "trimtab ${ARGN}: exit code ${rc}, expected ${want}\n${stderr}")
  endif()
endfunction()

expect_exit(0 --help)
expect_exit(0 sim --help)
expect_exit(2 --no-such-option)
expect_exit(2 check)                              # --config is required
expect_exit(2 sim --seeds 0 ${SCENARIO})          # out of range
expect_exit(2 sim ${SCENARIO} --duration soon)    # trimtab's own checks
expect_exit(2 sim ${SCENARIO} --duration 367d)
expect_exit(2 scrape)                             # the target is required
expect_exit(1 check --config ${CMAKE_CURRENT_LIST_DIR}/no-such-config.yaml)
expect_exit(2 run --config ${CMAKE_CURRENT_LIST_DIR}/no-such-config.yaml --duration 0)  # 0 would run for ever
expect_exit(2 journal tail --file ${SCENARIO} -n -3)

# journal --config on a config that cannot be read names the real problem.
execute_process(COMMAND ${TRIMTAB} journal show --config ${CMAKE_CURRENT_LIST_DIR}/no-such-config.yaml
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
if(NOT rc EQUAL 1 OR stderr MATCHES "journal disabled" OR NOT stderr MATCHES "no-such-config.yaml")
  message(FATAL_ERROR "trimtab journal show --config <missing>: exit code ${rc}\n${stderr}")
endif()

# A body over --max-body, from a file and from stdin (a pipe has no size to
# check first: the read itself must stop), fails with a message naming it.
foreach(input IN ITEMS file stdin)
  if(input STREQUAL "file")
    execute_process(COMMAND ${TRIMTAB} scrape ${SCENARIO} --max-body 100
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
  else()
    execute_process(COMMAND ${TRIMTAB} scrape - --max-body 100 INPUT_FILE ${SCENARIO}
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
  endif()
  if(NOT rc EQUAL 1 OR NOT stderr MATCHES "body exceeds 100 bytes \\(--max-body\\)")
    message(FATAL_ERROR "trimtab scrape (${input}) over --max-body: exit code ${rc}\n${stderr}")
  endif()
endforeach()

# A --policy file named like a config it is compared with: bad usage, and the
# message says what to rename (not "compared twice").
set(scratch ${CMAKE_CURRENT_BINARY_DIR}/cli_exit_codes_scratch)
file(MAKE_DIRECTORY ${scratch})
file(WRITE ${scratch}/static.lua "return { name = 'static', tick = function(ctx) end }\n")
execute_process(COMMAND ${TRIMTAB} sim ${SCENARIO} --policy ${scratch}/static.lua --duration 1h
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
if(NOT rc EQUAL 2 OR NOT stderr MATCHES "--policy: the column would be named 'static'.*rename the file")
  message(FATAL_ERROR "trimtab sim --policy static.lua: exit code ${rc}\n${stderr}")
endif()

# A --compare file with a bad config fails like the scenario's own (1), a
# scenario step that does not divide --duration is bad usage (2).
file(WRITE ${scratch}/bad_config.yaml "name: x\nknobs: {no_such_knob: 1}\n")
expect_exit(1 sim ${SCENARIO} --compare ${scratch}/bad_config.yaml --duration 1h)
expect_exit(2 sim ${SCENARIO} --duration 3600.5s)

# A perturbation whose draws a model refuses (a pool size of 7.2): refused
# before any run, naming the seed and what was drawn.
file(WRITE ${scratch}/drawn.yaml "duration: 1h\nmodels:\n  - model: load.constant\n  - model: pool\n"
                                 "    size: 7\n  - model: app\nperturb: {pool.size: 0.5}\n")
execute_process(COMMAND ${TRIMTAB} sim ${scratch}/drawn.yaml --perturb --out ${scratch}/out
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
if(NOT rc EQUAL 1 OR NOT stderr MATCHES "--perturb: seed 1 draws values its models refuse.*size.*drawn: models\\[1\\].size = ")
  message(FATAL_ERROR "trimtab sim --perturb with an integer drawn: exit code ${rc}\n${stderr}")
endif()

# Two --policy files that declare one name: refused before any run.
file(WRITE ${scratch}/a.lua "return { name = 'same', tick = function(ctx) end }\n")
file(WRITE ${scratch}/b.lua "return { name = 'same', tick = function(ctx) end }\n")
execute_process(COMMAND ${TRIMTAB} sim ${SCENARIO} --policy ${scratch}/a.lua --policy ${scratch}/b.lua --duration 1h
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
file(REMOVE_RECURSE ${scratch})
if(NOT rc EQUAL 1 OR NOT stderr MATCHES "b.lua: policy name 'same' is already used by .*a.lua")
  message(FATAL_ERROR "trimtab sim with two --policy files of one name: exit code ${rc}\n${stderr}")
endif()
