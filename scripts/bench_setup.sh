# Sourced by the benchmark scripts that compare with `implicit`: installs OpenBLAS and LAPACKE
# when missing, builds consentrec-bench in release, and makes a venv with implicit, threadpoolctl,
# numpy and scipy. Sets `bench` (the binary) and `venv`.
make --no-print-directory deps
swift build -c release --product consentrec-bench >/dev/null
bench=.build/release/consentrec-bench
venv=.venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "implicit==0.7.*" threadpoolctl numpy scipy
