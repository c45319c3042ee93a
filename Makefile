# coffer — build, test, fixtures. `make test` installs what the tests need when it is missing.
SHELL := /bin/bash
# Tools installed by scripts/install-tools.sh land in .venv; tests find them through PATH.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
GO ?= go
FUZZTIME ?= 10s

.PHONY: all build tools test lint fuzz bench fixtures demo release clean

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
	$(GO) test ./reporters/ -run '^$$' -fuzz '^FuzzCanonicalJSON$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./checks/... -run '^$$' -bench . -benchmem

# Regenerate the sample snapshots from the seeded emulator accounts.
fixtures: tools
	$(GO) run ./fixtures/cmd/regen

demo:
	$(GO) run ./cmd/coffer scan --snapshot fixtures/workshop-as-built.json --format table

# Release builds: one static binary per target, stamped with the version, commit and build time
# (`coffer version`), named coffer_<version>_<os>_<arch>[.exe], and their SHA256SUMS, in $(DIST).
# SOURCE_DATE_EPOCH (seconds) fixes the build time, which makes the build reproducible:
#   SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) make release
# One target into another folder: make release TARGETS=linux/amd64 DIST=/tmp/out
DIST ?= dist
TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
VERSION ?= $(shell git describe --tags --always --dirty)
COMMIT ?= $(shell git rev-parse HEAD)

# -buildvcs=false: the binary depends on the sources and the stamps only, not on untracked files
# (the toolchain's vcs.modified), so a rebuild of a commit matches its SHA256SUMS.
# The values reach the recipe as environment variables, never pasted into its text: a tag name
# may hold quotes, $( ) or a semicolon. Recursive (=) so that git runs for this target only.
release: export RELEASE_VERSION = $(VERSION)
release: export RELEASE_COMMIT = $(COMMIT)
release: export RELEASE_DIST = $(DIST)
release: export RELEASE_TARGETS = $(TARGETS)
release:
	@set -euo pipefail; \
	if ! [[ "$$RELEASE_VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$$ ]]; then \
		echo "release: version '$$RELEASE_VERSION' is not a plain tag name (set VERSION=…)" >&2; exit 1; fi; \
	if ! [[ "$$RELEASE_COMMIT" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$$ ]]; then \
		echo "release: commit '$$RELEASE_COMMIT' is not a full commit hash (set COMMIT=…)" >&2; exit 1; fi; \
	epoch="$${SOURCE_DATE_EPOCH:-$$(date +%s)}"; \
	if ! [[ "$$epoch" =~ ^[0-9]+$$ ]]; then echo "release: SOURCE_DATE_EPOCH '$$epoch' is not a number of seconds" >&2; exit 1; fi; \
	built=$$(date -u -d "@$$epoch" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$$epoch" +%Y-%m-%dT%H:%M:%SZ); \
	if command -v sha256sum >/dev/null; then sum=(sha256sum); else sum=(shasum -a 256); fi; \
	mkdir -p "$$RELEASE_DIST"; \
	rm -f "$$RELEASE_DIST"/coffer_* "$$RELEASE_DIST/SHA256SUMS"; \
	files=(); \
	for target in $$RELEASE_TARGETS; do \
		if ! [[ "$$target" =~ ^[a-z0-9]+/[a-z0-9]+$$ ]]; then echo "release: target '$$target' is not OS/ARCH" >&2; exit 1; fi; \
		os=$${target%/*}; arch=$${target#*/}; ext=; if [ "$$os" = windows ]; then ext=.exe; fi; \
		name="coffer_$${RELEASE_VERSION}_$${os}_$${arch}$$ext"; \
		echo "release: $$RELEASE_DIST/$$name"; \
		CGO_ENABLED=0 GOOS="$$os" GOARCH="$$arch" $(GO) build -trimpath -buildvcs=false \
			-ldflags "-s -w -X main.version=$$RELEASE_VERSION -X main.commit=$$RELEASE_COMMIT -X main.date=$$built" \
			-o "$$RELEASE_DIST/$$name" ./cmd/coffer; \
		files+=("$$name"); \
	done; \
	cd "$$RELEASE_DIST" && "$${sum[@]}" -- "$${files[@]}" > SHA256SUMS; \
	echo "release: $$RELEASE_DIST/SHA256SUMS"

clean:
	rm -rf coffer .venv node_modules dist
