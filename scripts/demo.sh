#!/usr/bin/env bash
# The README's main command (make demo): retrain by hand on the bundled sample, inspect the run,
# recommend for one user, audit the run against the registry, and check the model from Python.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/consentrec
sample=data/sample
out=${DEMO_OUT:-/tmp/consentrec-demo}
data=(--events "$sample/events.csv" --consent "$sample/consent.csv" --key-file "$sample/pseudonym.key"
      --as-of 2026-11-20T00:00:00Z --retention-days 28)

echo "== consentrec train (hand retrain on $sample, output root $out)"
"$bin" train "${data[@]}" --out "$out" --iterations 10 2> >(grep -v ' progress$' | grep -v 'stage=' >&2)

echo; echo "== consentrec inspect $out"
"$bin" inspect "$out"

# A user of a consenting workspace: the first event row whose workspace has not opted out.
read -r workspace user < <(awk -F, 'NR==FNR { if ($2 == "opted_out") out[$1] = 1; next }
  FNR > 1 && !($2 in out) { print $2, $3; exit }' "$sample/consent.csv" "$sample/events.csv")
echo; echo "== consentrec recommend (workspace $workspace, user $user)"
"$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
  --key-file "$sample/pseudonym.key" -k 5 2>/dev/null
"$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
  --key-file "$sample/pseudonym.key" -k 5 --recommender emoji 2>/dev/null

echo; echo "== consentrec audit $out"
"$bin" audit "$out" --consent "$sample/consent.csv" --key-file "$sample/pseudonym.key"

if [ -x .venv/bin/python ] && .venv/bin/python -c "import safetensors, numpy" 2>/dev/null; then
  echo; echo "== scripts/check_model.py (the same recommendation recomputed with safetensors + numpy)"
  "$bin" recommend --run "$out" --workspace "$workspace" --user "$user" --events "$sample/events.csv" \
    --key-file "$sample/pseudonym.key" -k 5 --json 2>/dev/null | .venv/bin/python scripts/check_model.py --run "$out" -
fi
