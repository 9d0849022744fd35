#!/usr/bin/env bash
# make bench-scaling: the nightly job on a generated log (EVENTS events, default 1,000,000) with
# consentrec run and with consentrec-mpi on 1–4 ranks of this machine, one thread per rank:
# wall time, events per second in all and per rank, and the stage times of each run, with the
# CPU and BLAS kernels; then the global model's fit alone on 1–4 ranks against one process.
# Ranks beyond the machine's cores share them: compare within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
work=${WORK:-/tmp/consentrec-bench-scaling}
events=${EVENTS:-1000000}
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-run-as-root)
mkdir -p "$work"
if [ ! -f "$work/data-$events/events.csv" ]; then
  "$bin/consentrec" generate --out "$work/data-$events" --events "$events" --workspaces 200 >/dev/null
fi
cat > "$work/nightly.toml" <<TOML
[input]
events = ["$work/data-$events/events.csv"]
[consent]
registry = "$work/data-$events/consent.csv"
[privacy]
key_file = "$work/data-$events/pseudonym.key"
as_of = "2026-11-20T00:00:00Z"
[output]
root = "$work/out"
[run]
threads = 1
[recommenders.channel.als]
factors = 32
iterations = 10
[recommenders.channel.evaluation]
split = "temporal:0.2"
[recommenders.emoji.als]
factors = 32
iterations = 10
TOML
"$bin/consentrec" run --config "$work/nightly.toml" --out "$work/out" --log-level warning | sed -n 2p
kept=$(python3 -c "import json,glob,os; r=max(glob.glob('$work/out/reports/*.json'), key=os.path.getmtime); print(json.load(open(r))['usage']['eventsKept'])")
echo "events: $events rows, $kept kept; one thread per rank"
printf "%-22s %8s %12s %16s  %s\n" "run" "seconds" "events/s" "events/s/rank" "stages (rank 0's report)"
measure() {
  local label=$1 ranks=$2; shift 2
  rm -rf "$work/out"
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  python3 - "$label" "$ranks" "$start" "$end" "$kept" "$work/out" <<'PY'
import json, glob, sys, os
label, ranks, start, end, kept, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
report = json.load(open(max(glob.glob(out + "/reports/*.json"), key=os.path.getmtime)))
s = end - start
stages = ", ".join(f"{k} {v:.2f}" for k, v in report["stageSeconds"].items())
print(f"{label:<22} {s:8.2f} {kept / s:12.0f} {kept / s / ranks:16.0f}  {stages}")
PY
}
measure "consentrec run" 1 "$bin/consentrec" run --config "$work/nightly.toml" --log-level warning
for n in 1 2 3 4; do
  measure "consentrec-mpi -np $n" "$n" mpirun "${root_flag[@]}" --oversubscribe -np "$n" "$bin/consentrec-mpi" run --config "$work/nightly.toml" --log-level warning --stretch-bytes 8388608
done

# The global model's fit alone (DistributedALS), on a generated matrix every rank makes alike,
# against one process on rank 0 of the same job; checks the bits are the same.
echo
echo "global fit alone (consentrec-mpi bench-fit): ${FIT_USERS:=200000} users × ${FIT_ITEMS:=2000} items, ${FIT_NONZEROS:=2000000} non-zeros, f = 32, 10 iterations, one thread per rank"
for n in 1 2 3 4; do
  mpirun "${root_flag[@]}" --oversubscribe -np "$n" "$bin/consentrec-mpi" bench-fit --users "$FIT_USERS" --items "$FIT_ITEMS" --non-zeros "$FIT_NONZEROS" | grep "^ranks"
done
