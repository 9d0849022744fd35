#!/usr/bin/env bash
# make demo-mpi: the nightly job on the bundled sample on 2 OpenMPI ranks of this machine, then
# the same job in one process, and the two runs' model files compared byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
out=${DEMO_OUT:-/tmp/consentrec-nightly-mpi}
ranks=${RANKS:-2}
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-run-as-root)

echo "== mpirun -np $ranks consentrec-mpi run --config data/nightly.toml (output root $out/mpi)"
status=0
mpirun "${root_flag[@]}" --oversubscribe -np "$ranks" "$bin/consentrec-mpi" run --config data/nightly.toml --out "$out/mpi" --log-level warning || status=$?
echo "(exit status $status)"
[ "$status" = 0 ] || exit "$status"

echo; echo "== consentrec run --config data/nightly.toml (output root $out/one), for comparison"
"$bin/consentrec" run --config data/nightly.toml --out "$out/one" --log-level warning >/dev/null

digests() { (cd "$1/current/" && find . -name '*.safetensors' | sort | xargs sha256sum); }
if diff <(digests "$out/mpi") <(digests "$out/one") >/dev/null; then
  echo "the $(digests "$out/mpi" | wc -l) model files of both runs are byte-identical"
else
  echo "the model files differ:"; diff <(digests "$out/mpi") <(digests "$out/one"); exit 1
fi
