#!/usr/bin/env bash
# Fuzzes every reader that takes hostile bytes with libFuzzer, FUZZ_SECONDS each (default 300),
# and prints one line per target: executions, coverage, corpus size, crashes.
# Seeds come from Tests/FuzzCorpus/TARGET (never modified); what the fuzzer finds goes to
# .build-fuzz/corpus/TARGET, crashing inputs to .build-fuzz/crashes/. Replay one with
#   swift build --product consentrec-fuzz && .build/debug/consentrec-fuzz TARGET FILE
# With FUZZ_RUNS=N instead, each target runs N inputs from a fixed seed: the same inputs every
# time, so the short run in `make test` passes or fails the same way on every machine.
# Usage: scripts/fuzz.sh [TARGET…]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-300}
if [ -n "${FUZZ_RUNS:-}" ]; then LENGTH=(-runs="$FUZZ_RUNS" -seed=1); else LENGTH=(-max_total_time="$SECONDS_EACH"); fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(csv tsv jsonl slack registry safetensors timestamp config)
SCRATCH=.build-fuzz

swift build -c release --sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DCONSENTREC_FUZZ \
    --scratch-path "$SCRATCH" --product consentrec-fuzz 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
BINARY="$SCRATCH/release/consentrec-fuzz"
[ -x "$BINARY" ] || { echo "fuzz build failed" >&2; exit 1; }

mkdir -p "$SCRATCH/crashes" "$SCRATCH/logs"
status=0
printf '%-12s %12s %8s %8s %8s %8s %s\n' target executions exec/s cov features corpus result
for target in "${TARGETS[@]}"; do
    mkdir -p "$SCRATCH/corpus/$target"
    log="$SCRATCH/logs/$target.log"
    # -rss_limit_mb bounds memory: hostile input must never take more (the readers cap what they hold).
    # SWIFT_BACKTRACE off: libFuzzer, not Swift's backtracer, must catch a trap to save the input.
    if SWIFT_BACKTRACE=enable=no CONSENTREC_FUZZ_TARGET=$target "$BINARY" "$SCRATCH/corpus/$target" "Tests/FuzzCorpus/$target" \
        "${LENGTH[@]}" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$SCRATCH/crashes/$target-" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED: $(ls "$SCRATCH/crashes/$target-"* 2>/dev/null | head -1) (log: $log)"
        status=1
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    speed=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
    printf '%-12s %12s %8s %8s %8s %8s %s\n' "$target" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $status
