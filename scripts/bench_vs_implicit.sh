#!/usr/bin/env bash
# ConsentRec's ALS against the Python library `implicit`: same matrix, same hyper-parameters,
# same threads, same machine, one evaluator. Prints seconds per iteration, their ratio, and
# precision@10 / ndcg@10 of both. Extra arguments go to bench_vs_implicit.py (e.g. --iterations 5).
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory deps
swift build -c release --product consentrec-bench >/dev/null
bench=.build/release/consentrec-bench

venv=.venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "implicit==0.7.*" threadpoolctl numpy scipy

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$bench" export --out "$data/data.csv" ${BENCH_SCALE:+--scale "$BENCH_SCALE"}
OPENBLAS_NUM_THREADS=1 "$venv/bin/python" scripts/bench_vs_implicit.py \
  --data "$data/data.csv" --consentrec-bench "$bench" "$@"
