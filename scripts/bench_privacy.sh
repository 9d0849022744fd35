#!/usr/bin/env bash
# The price of privacy (make bench-privacy): `consentrec evaluate --epsilon 1,2,4,8,16` on two
# generated logs with planted emoji tastes — about 20,000 people and about 120,000 — then the
# plot docs/privacy-sweep.svg from the two JSON reports. Each log is generated once into
# $PRIVACY_DATA (default /tmp/consentrec-privacy) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory deps
swift build -c release --product consentrec >/dev/null
bin=.build/release/consentrec
data=${PRIVACY_DATA:-/tmp/consentrec-privacy}
mkdir -p "$data"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "OpenBLAS $(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null || echo '?')"
reports=()
for size in "small 1000000 300" "large 6000000 1800"; do
  set -- $size
  dir="$data/$1"
  if [ ! -f "$dir/events.csv" ]; then "$bin" generate --out "$dir" --events "$2" --workspaces "$3" --days 60 >/dev/null; fi
  echo
  echo "== $1: $2 events, $3 workspaces =="
  "$bin" evaluate --events "$dir/events.csv" --consent "$dir/consent.csv" --key-file "$dir/pseudonym.key" \
    --as-of 2026-11-20T00:00:00Z --recommender emoji --factors 8 --regularization 1 --iterations 5 --threads "$(nproc)" \
    --epsilon 1,2,4,8,16 --json "$data/$1.json"
  reports+=("$data/$1.json")
done
python3 scripts/privacy_plot.py "${reports[@]}" > docs/privacy-sweep.svg
echo "plot written to docs/privacy-sweep.svg"
