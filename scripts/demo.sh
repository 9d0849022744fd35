#!/usr/bin/env bash
# The README's main command (make demo): the nightly job on the bundled sample with
# data/nightly.toml, then its report, a recommendation from the published run, the audit, and
# the same recommendation recomputed from the safetensors file with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/consentrec
sample=data/sample
out=${DEMO_OUT:-/tmp/consentrec-nightly}

echo "== consentrec run --config data/nightly.toml (output root $out)"
status=0
printed=$(mktemp)
"$bin" run --config data/nightly.toml --out "$out" --log-level warning > "$printed" || status=$?
cat "$printed"
echo "(exit status $status)"

# A user of a consenting workspace: the first event row whose workspace has not opted out.
read -r workspace user < <(awk -F, 'NR==FNR { if ($2 == "opted_out") out[$1] = 1; next }
  FNR > 1 && !($2 in out) { print $2, $3; exit }' "$sample/consent.csv" "$sample/events.csv")
echo; echo "== consentrec recommend (workspace $workspace, user $user)"
"$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
  --key-file "$sample/pseudonym.key" --consent "$sample/consent.csv" --as-of 2026-11-20T00:00:00Z -k 5 || echo "(no channel model for this workspace in the run)"
"$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
  --key-file "$sample/pseudonym.key" --consent "$sample/consent.csv" --as-of 2026-11-20T00:00:00Z -k 5 --recommender emoji

echo; echo "== consentrec inspect $out (checksums, files, and the seal under the key)"
"$bin" inspect "$out" --key-file "$sample/pseudonym.key"

echo; echo "== consentrec audit $out (against today's registry)"
"$bin" audit "$out" --consent "$sample/consent.csv" --key-file "$sample/pseudonym.key"

if [ -x .venv/bin/python ] && .venv/bin/python -c "import safetensors, numpy" 2>/dev/null; then
  echo; echo "== scripts/check_model.py (the emoji recommendation recomputed with safetensors + numpy)"
  "$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
    --key-file "$sample/pseudonym.key" --consent "$sample/consent.csv" --as-of 2026-11-20T00:00:00Z -k 5 --json --recommender emoji | .venv/bin/python scripts/check_model.py --run "$out" -
fi

echo; echo "== this run's Prometheus metrics (node_exporter textfile format; docs/nightly.md#job-metrics-prometheus)"
grep -E '^consentrec_(run_status\{status="published"\}|run_exit_status|events_kept_total|last_success)' "$out/metrics/consentrec.prom" | sort
echo
# This run's page, as the run printed it (docs/nightly.md#the-runs-page-html).
echo "HTML report: $(sed -n 's/^report: //p' "$printed")"
rm -f "$printed"
echo "metrics file: $out/metrics/consentrec.prom"
