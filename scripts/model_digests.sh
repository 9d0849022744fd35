#!/usr/bin/env bash
# make model-digests: the SHA-256 of every model the demo and the benchmarks' trainers write,
# one line per file, sorted. Run it before and after a change that must not change behaviour
# (a refactor, a new build of a dependency) and compare the two outputs with diff: identical
# lines mean identical model bytes.
#
# Covers: the nightly job on the bundled sample (data/nightly.toml), the hand retrain
# (`consentrec train`) on the same sample, the nightly job on a larger generated log, and the
# benchmark trainer's raw factors (both solvers) on a generated matrix.
# Model bytes depend on the BLAS kernels the CPU gets: compare outputs from one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/consentrec
bench=.build/release/consentrec-bench
work=$(mktemp -d /tmp/consentrec-digests.XXXXXX)
trap 'rm -rf "$work"' EXIT
sample=data/sample

digests() {  # LABEL DIR: one "LABEL/relative-path sha256" line per model file
  (cd "$2" && find . -name '*.safetensors' -o -name '*.f32' | LC_ALL=C sort | while read -r f; do
    echo "$1/${f#./} $(sha256sum "$f" | cut -d' ' -f1)"
  done)
}

"$bin" run --config data/nightly.toml --out "$work/nightly" --log-level error >/dev/null
digests demo-nightly "$work/nightly/current/"

"$bin" train --events "$sample/events.csv" --consent "$sample/consent.csv" --key-file "$sample/pseudonym.key" \
  --as-of 2026-11-20T00:00:00Z --retention-days 28 --factors 16 --iterations 5 --threads 2 \
  --out "$work/train" >/dev/null 2>&1
digests demo-train "$work/train/current/"

"$bin" generate --out "$work/generated" --workspaces 60 --events 400000 --seed 7 >/dev/null
sed -e "s#sample/#$work/generated/#g" -e "s#^root = .*#root = \"$work/generated-root\"#" data/nightly.toml >"$work/generated.toml"
"$bin" run --config "$work/generated.toml" --log-level error >/dev/null || true  # a gate may fail; models published are compared
[ -e "$work/generated-root/current" ] && digests generated-nightly "$work/generated-root/current/"

"$bench" export --users 5000 --items 800 --non-zeros 120000 --out "$work/matrix.csv" >/dev/null
mkdir -p "$work/bench"
for solver in cg cholesky; do
  "$bench" train --input "$work/matrix.csv" --solver "$solver" --factors 32 --iterations 5 --threads 2 \
    --factors-out "$work/bench/$solver" >/dev/null
done
digests bench-train "$work/bench"
