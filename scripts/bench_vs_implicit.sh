#!/usr/bin/env bash
# ConsentRec's ALS against the Python library `implicit`: same matrix, same hyper-parameters,
# same threads, same machine, one evaluator. Prints seconds per iteration, their ratio, and
# precision@10 / ndcg@10 of both. Extra arguments go to bench_vs_implicit.py (e.g. --iterations 5).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/bench_setup.sh

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$bench" export --out "$data/data.csv" ${BENCH_SCALE:+--scale "$BENCH_SCALE"}
OPENBLAS_NUM_THREADS=1 "$venv/bin/python" scripts/bench_vs_implicit.py \
  --data "$data/data.csv" --consentrec-bench "$bench" "$@"
