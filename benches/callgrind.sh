#!/bin/bash
# A NEWSD= wrapper for benches/run.sh e2e: runs `newsd once` and `newsd clean` under
# valgrind's callgrind (instruction counts, one file per thread), anything else plainly.
#   CALLGRIND_NEWSD=target/release/newsd CALLGRIND_OUT=target/bench/cg \
#     NEWSD=benches/callgrind.sh benches/run.sh e2e --feeds 100 --items 10
#   callgrind_annotate --inclusive=yes target/bench/cg/once.PID.out-NN
# Per-thread totals: grep '^totals:' target/bench/cg/once.*-* (one directory per run: the
# files of earlier runs are not removed). Counts repeat run after run per thread, except the
# thread(s) where sled's pool spins at start-up (`sled::lazy::Lazy::deref` on top): leave
# those out of any sum.
set -euo pipefail
newsd=${CALLGRIND_NEWSD:-target/release/newsd}
out=${CALLGRIND_OUT:-target/bench/cg}
mkdir -p "$out"
case " $* " in
  *" once "*) exec valgrind -q --tool=callgrind --separate-threads=yes \
                --callgrind-out-file="$out/once.%p.out" "$newsd" "$@" ;;
  *" clean "*) exec valgrind -q --tool=callgrind --callgrind-out-file="$out/clean.%p.out" "$newsd" "$@" ;;
  *) exec "$newsd" "$@" ;;
esac
