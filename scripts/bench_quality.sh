#!/usr/bin/env bash
# Tuned for tuned (make bench-quality): ConsentRec's tuned ALS (iALS++ parameters, its own
# search) against the best of a lambda x alpha grid of `implicit`, same budget, same split, one
# evaluator. On generated data with planted communities, and on any row,col,value CSV given as
# QUALITY_DATA=path (e.g. a public rating data set converted to implicit feedback).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/bench_setup.sh

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$bench" export --out "$data/planted.csv" --users 20000 --items 3000 --non-zeros 600000 >/dev/null
OPENBLAS_NUM_THREADS=1 "$venv/bin/python" scripts/bench_quality.py --data "$data/planted.csv" --name planted \
  --consentrec-bench "$bench" "$@"
if [ -n "${QUALITY_DATA:-}" ]; then
  OPENBLAS_NUM_THREADS=1 "$venv/bin/python" scripts/bench_quality.py --data "$QUALITY_DATA" --name "$(basename "$QUALITY_DATA")" \
    --consentrec-bench "$bench" "$@"
fi
