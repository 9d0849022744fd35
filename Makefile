# ConsentRec: `make demo` runs the main job on the bundled sample, `make test` runs the tests.
# Every target installs what it needs on a fresh Debian machine (OpenBLAS, LAPACKE, OpenMPI).
SWIFT ?= swift
# bsdutils: `script`, which runs the progress-bar test under a pseudo-terminal.
APT_PACKAGES := libopenblas-dev liblapacke-dev openmpi-bin libopenmpi-dev bsdutils
# What the tests use beyond the build: headless Chromium (the HTML report opened in a browser)
# with a font, and the PostgreSQL server the consent-registry tests start for themselves.
TEST_APT_PACKAGES := chromium fonts-dejavu-core postgresql

VENV := .venv

.PHONY: deps testdeps pydeps build demo demo-mpi demo-als model-digests test consent-properties fuzz fuzz-replay crash-test bench bench-quick bench-implicit bench-quality bench-privacy bench-scaling clean

# Installs OpenBLAS, LAPACKE and OpenMPI with apt-get when they are missing.
deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

# Installs Chromium and PostgreSQL for the tests with apt-get when they are missing.
testdeps: deps
	@if ! dpkg -s $(TEST_APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing $(TEST_APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_APT_PACKAGES); \
	fi

# A venv with safetensors, numpy, implicit, dp-accounting and Pillow for the Python checks
# (scripts/check_model.py, scripts/implicit_metrics.py, scripts/dp_epsilon.py, scripts/render_page.py); Python and its
# venv module come from apt-get when missing. A failed install stops `make test`.
pydeps:
	@command -v python3 >/dev/null 2>&1 || { echo "installing python3"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV) 2>/dev/null || { echo "installing python3-venv"; rm -rf $(VENV); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	@$(VENV)/bin/python -c "import safetensors, numpy, implicit, dp_accounting, PIL" 2>/dev/null || \
		$(VENV)/bin/pip install --quiet --disable-pip-version-check safetensors numpy "implicit==0.7.*" "dp-accounting==0.6.*" pillow

build: deps
	$(SWIFT) build -c release

demo: deps pydeps
	$(SWIFT) build -c release
	scripts/demo.sh

# The nightly job on the bundled sample across 2 OpenMPI ranks on this machine, checked
# byte for byte against `consentrec run` on the same config (docs/scaling.md).
demo-mpi: deps
	$(SWIFT) build -c release
	scripts/demo_mpi.sh

# consentrec run against consentrec-mpi on 1–4 ranks of this machine (EVENTS, default 1M).
bench-scaling: deps
	$(SWIFT) build -c release
	scripts/bench_scaling.sh

# The numeric core alone: both solvers on generated data with planted communities.
demo-als: deps
	$(SWIFT) build -c release --product consentrec-bench
	.build/release/consentrec-bench demo

# The SHA-256 of every model the demo and the benchmark trainer write. Run it before and after
# a change that must not change behaviour and diff the outputs (docs/architecture.md).
model-digests: deps
	$(SWIFT) build -c release
	scripts/model_digests.sh

# XCTest only: the suite has no Swift Testing tests, and that runner's "0 tests" closing line
# would otherwise be the last word of the run.
# Then every fuzz target briefly (20,000 inputs each from a fixed seed: the same every time),
# so a reader that crashes on hostile bytes fails the run. The suite includes 20 kill -9 crash
# tests (crash-test: 200).
test: testdeps pydeps
	CONSENTREC_PYTHON=$(abspath $(VENV))/bin/python $(SWIFT) test --disable-swift-testing
	FUZZ_RUNS=$${FUZZ_RUNS:-20000} scripts/fuzz.sh

# libFuzzer on every reader of hostile bytes, FUZZ_SECONDS each (default 300); figures per
# target, crashing inputs in .build-fuzz/crashes/. See docs/reliability.md.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/fuzz.sh

# Replays the seed corpus (and anything the fuzzer found) through a plain build, no libFuzzer.
fuzz-replay: deps
	$(SWIFT) build --product consentrec-fuzz
	for t in csv tsv jsonl slack registry safetensors timestamp config; do \
		.build/debug/consentrec-fuzz $$t Tests/FuzzCorpus/$$t $$( [ -d .build-fuzz/corpus/$$t ] && echo .build-fuzz/corpus/$$t ) || exit 1; \
	done

# kill -9 at 200 random moments of real train and run processes (KILLS to change).
crash-test: deps
	CONSENTREC_CRASH_KILLS=$${KILLS:-200} $(SWIFT) test --disable-swift-testing --filter CrashSafetyTests

# The property-based consent suite at length: 40 random sequences of nightly runs (make test
# runs 4), each night checked against models retrained on the allowed rows alone.
consent-properties: deps
	CONSENTREC_PROPERTY_SEQUENCES=$${SEQUENCES:-40} $(SWIFT) test --disable-swift-testing --filter ConsentPropertyTests

# Benchmarks print figures; nothing is asserted. Each run is its own process, so each peak RSS
# belongs to one configuration.
bench: deps
	$(SWIFT) build -c release --product consentrec-bench
	.build/release/consentrec-bench als --solver cg --solver cholesky
	.build/release/consentrec-bench als --scale 10 --solver cg
	.build/release/consentrec-bench als --scale 10 --solver cholesky
	.build/release/consentrec-bench foldin
	.build/release/consentrec-bench warm-start
	.build/release/consentrec-bench ingest
	.build/release/consentrec-bench ingest --gzip
	.build/release/consentrec-bench nightly

bench-quick: deps
	$(SWIFT) build -c release --product consentrec-bench
	.build/release/consentrec-bench als --iterations 3
	.build/release/consentrec-bench foldin --sample 1000
	.build/release/consentrec-bench ingest --events 1000000 --workspaces 200

bench-implicit: deps
	scripts/bench_vs_implicit.sh

# Tuned for tuned: ConsentRec's tuner (iALS++ parameters) against the best of implicit's
# lambda x alpha grid at the same compute, on planted data (and QUALITY_DATA=file.csv if given).
bench-quality: deps
	scripts/bench_quality.sh

# The price of privacy: the private global emoji model at ε = 1, 2, 4, 8, 16 beside the
# non-private one on about 20,000 and 120,000 generated people; writes docs/privacy-sweep.svg.
bench-privacy: deps
	scripts/bench_privacy.sh

clean:
	rm -rf .build .build-fuzz
