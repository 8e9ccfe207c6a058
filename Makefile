# Benchmarks. `make bench` runs every benchmark of the project RUNS times, each beside its baseline or peer
# measured in the same round, and rewrites BENCHMARKS.md from the medians (bench/suite). Run it on a quiet
# machine. `make bench-quick` checks the pipeline: the suite's unit tests, then one round of shortened
# benchmarks written to BENCH_QUICK_OUT (BENCHMARKS.md is left alone). NICE="nice -n 10" lowers the
# priority of a run on a shared machine.
RUNS ?= 5
NICE ?=
BENCH_QUICK_OUT ?= /tmp/BENCHMARKS.quick.md

.PHONY: bench bench-quick

bench:
	$(NICE) go run ./bench/suite -runs $(RUNS) -out BENCHMARKS.md

bench-quick:
	go test ./bench/suite
	$(NICE) go run ./bench/suite -quick -runs 1 -out $(BENCH_QUICK_OUT)

# The end-to-end suite (e2e/): two gateway instances on a Redis of their own behind a load balancer, real clients
# on every channel, an instance killed and Redis restarted under traffic, then a soak of E2E_SOAK (0 skips it).
# Needs redis-server, sipp, baresip and chromium (.ci/run installs them).
E2E_SOAK ?= 10m

.PHONY: e2e

e2e:
	AIRBRANCH_E2E=1 AIRBRANCH_E2E_SOAK=$(E2E_SOAK) AIRBRANCH_TEST_REQUIRE_TOOLS=1 go test -count=1 -v -timeout 60m ./e2e
