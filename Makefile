# ConsentRec: `make demo` runs the main job on the bundled sample, `make test` runs the tests.
# Every target installs what it needs on a fresh Debian machine (OpenBLAS and LAPACKE).
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev

.PHONY: deps build demo test bench bench-quick bench-implicit clean

# Installs OpenBLAS and LAPACKE with apt-get when they are missing.
deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

build: deps
	$(SWIFT) build -c release

demo: deps
	$(SWIFT) build -c release
	.build/release/consentrec ingest --events data/sample/events.csv --consent data/sample/consent.csv \
		--key-file data/sample/pseudonym.key --as-of 2026-11-20T00:00:00Z --retention-days 28
	.build/release/consentrec-bench demo

# XCTest only: the suite has no Swift Testing tests, and that runner's "0 tests" closing line
# would otherwise be the last word of the run.
test: deps
	$(SWIFT) test --disable-swift-testing

# Benchmarks print figures; nothing is asserted. Each run is its own process, so each peak RSS
# belongs to one configuration.
bench: deps
	$(SWIFT) build -c release --product consentrec-bench
	.build/release/consentrec-bench als --solver cg --solver cholesky
	.build/release/consentrec-bench als --scale 10 --solver cg
	.build/release/consentrec-bench als --scale 10 --solver cholesky
	.build/release/consentrec-bench foldin
	.build/release/consentrec-bench ingest
	.build/release/consentrec-bench ingest --gzip

bench-quick: deps
	$(SWIFT) build -c release --product consentrec-bench
	.build/release/consentrec-bench als --iterations 3
	.build/release/consentrec-bench foldin --sample 1000
	.build/release/consentrec-bench ingest --events 1000000 --workspaces 200

bench-implicit: deps
	scripts/bench_vs_implicit.sh

clean:
	rm -rf .build
