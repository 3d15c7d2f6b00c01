# The two commands a new user needs: `make demo` and `make test`.
SWIFT ?= swift
VEM := .build/debug/vem

# Pure, CPU-heavy test targets (fuzzing, property-based schedules, trace replays) run first, on their own:
# Swift's cooperative pool has one thread per core, and synchronous CPU-bound tests would otherwise starve
# the asynchronous, deadline-bound integration tests (real daemons, sockets, processes) for tens of seconds.
PURE_TESTS := ^(VEMCoreTests|VEMConfigTests|VEMRulesTests|VEMSiteTests|VEMProtocolTests|VEMPolicyTests|VEMBatchTests|VEMLibvirtTests|VEMPoolTests|VEMReplayAgentTests)\.

.PHONY: all build test demo deps clean

all: build

deps:
	scripts/install-deps

build: deps
	$(SWIFT) build --build-tests

test: build
	$(SWIFT) test --skip-build --filter '$(PURE_TESTS)'
	$(SWIFT) test --skip-build --skip '$(PURE_TESTS)'

# The whole loop on one machine: a window of the LCG trace (../shared/traces, else a built-in workload), about
# a minute. Builds only the executable, not the tests.
demo: deps
	$(SWIFT) build --product vem
	$(VEM) demo

clean:
	rm -rf .build
