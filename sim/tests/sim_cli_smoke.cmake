# SPDX-License-Identifier: Apache-2.0
# `trimtab sim` end to end: two identical runs give identical files, the
# report has its charts, and `trimtab replay` reads what `--record` wrote.
# Called by CTest with -DTRIMTAB=... -DSCENARIO=... -DOUT=...
file(REMOVE_RECURSE ${OUT})

# Fails unless each of the files is the same in the output directories a and b.
function(expect_same a b what)
  foreach(f ${ARGN})
    file(READ ${OUT}/${a}/${f} A)
    file(READ ${OUT}/${b}/${f} B)
    if(NOT A STREQUAL B)
      message(FATAL_ERROR "${f} differs between two identical ${what}")
    endif()
  endforeach()
endfunction()

foreach(run a b)
  execute_process(COMMAND ${TRIMTAB} sim ${SCENARIO} --duration 2h --seeds 2 --record --out ${OUT}/${run}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE stdout_${run} ERROR_VARIABLE stderr)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "trimtab sim failed (${rc}):\n${stdout_${run}}\n${stderr}")
  endif()
endforeach()
string(REPLACE "${OUT}/a" "OUT" stdout_a "${stdout_a}")
string(REPLACE "${OUT}/b" "OUT" stdout_b "${stdout_b}")
if(NOT stdout_a STREQUAL stdout_b)
  message(FATAL_ERROR "stdout differs between two identical runs:\n${stdout_a}\n---\n${stdout_b}")
endif()
expect_same(a b runs summary.json timeline.csv events.csv report.html)
# Perturbed, through a flash crowd, trimtab's policies: the same again. (A
# policy that sums floats in pairs() order over string keys differs between
# processes, since Lua seeds its string hashes per process: pool_size did,
# and its knee came out 69 or 70 at t=5410 of seed 1.)
foreach(run pa pb)
  execute_process(COMMAND ${TRIMTAB} sim ${SCENARIO} --duration 3h --seeds 2 --perturb --compare trimtab
                          --out ${OUT}/${run}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "trimtab sim --perturb failed (${rc}):\n${stderr}")
  endif()
endforeach()
expect_same(pa pb "perturbed runs" summary.json timeline.csv decisions-trimtab-seed1.jsonl)
file(READ ${OUT}/a/report.html html)
string(FIND "${html}" "<svg" at)
if(at EQUAL -1)
  message(FATAL_ERROR "report.html has no <svg>")
endif()
string(FIND "${stdout_a}" "SLO violation" at)
if(at EQUAL -1)
  message(FATAL_ERROR "no summary table on stdout:\n${stdout_a}")
endif()
file(GLOB recordings ${OUT}/a/recording-*-seed*.jsonl)
list(GET recordings 0 recording)
get_filename_component(root ${SCENARIO} DIRECTORY)
execute_process(COMMAND ${TRIMTAB} replay ${recording} --policy ${root}/../../policies/sim/pool_size.lua
                        --knob db_pool_size=20,min=5,max=80
                RESULT_VARIABLE rc OUTPUT_VARIABLE replay ERROR_VARIABLE stderr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "trimtab replay failed (${rc}):\n${replay}\n${stderr}")
endif()
string(FIND "${replay}" "policy ticks" at)
if(at EQUAL -1)
  message(FATAL_ERROR "trimtab replay printed no summary:\n${replay}")
endif()
string(FIND "${stderr}" "no knobs" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "trimtab replay warned of no knobs with --knob given:\n${stderr}")
endif()
# Without a knob the policy decides nothing: replay must say why.
execute_process(COMMAND ${TRIMTAB} replay ${recording} --policy ${root}/../../policies/sim/pool_size.lua
                RESULT_VARIABLE rc OUTPUT_VARIABLE replay ERROR_VARIABLE stderr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "trimtab replay without --knob failed (${rc}):\n${replay}\n${stderr}")
endif()
string(FIND "${stderr}" "warning: no knobs" at)
if(at EQUAL -1)
  message(FATAL_ERROR "trimtab replay without a knob gave no warning:\n${stderr}")
endif()
