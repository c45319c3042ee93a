# coffer — build, test, fixtures. `make test` installs what the tests need when it is missing.
SHELL := /bin/bash
# Tools installed by scripts/install-tools.sh land in .venv; tests find them through PATH.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
GO ?= go
FUZZTIME ?= 10s

.PHONY: all build tools test lint fuzz bench fixtures demo clean

all: build

build:
	$(GO) build -o coffer ./cmd/coffer

tools:
	scripts/install-tools.sh
	scripts/install-sarif-multitool.sh
	scripts/install-chromium.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: tools lint
	$(GO) test -race -count=1 -timeout 25m ./...
	$(MAKE) fuzz

# Each fuzz target runs briefly in CI; the corpus that found bugs lives in testdata/fuzz.
fuzz:
	$(GO) test ./checks/ -run '^$$' -fuzz '^FuzzParsePolicy$$' -fuzztime $(FUZZTIME)
	$(GO) test ./checks/ -run '^$$' -fuzz '^FuzzParseSnapshot$$' -fuzztime $(FUZZTIME)
	$(GO) test ./checks/ -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./checks/ -run '^$$' -fuzz '^FuzzPrintedCommands$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./checks/... -run '^$$' -bench . -benchmem

# Regenerate the sample snapshots from the seeded emulator accounts.
fixtures: tools
	$(GO) run ./fixtures/cmd/regen

demo:
	$(GO) run ./cmd/coffer scan --snapshot fixtures/workshop-as-built.json --format table

clean:
	rm -rf coffer .venv node_modules
