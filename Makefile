# lambdaimg — see README.md. `make demo` runs the main job end to end on a
# fresh machine; `make test` runs the whole suite.
GO      ?= go
BIN     ?= bin/lambdaimg
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/lambdaimg/lambdaimg/pkg/cli.Version=$(VERSION)
# A count, not a duration: with a duration Go 1.26's fuzz coordinator can
# report a bare "context deadline exceeded" when its deadline races a worker
# (golang/go#75804, fixed in Go 1.27); it failed CI once. 150000 executions
# take about 10 s on 2 cores.
FUZZTIME ?= 150000x

HELPERS := $(foreach a,amd64 arm64,pkg/helper/bin/lambdaimg-helper-linux-$(a))
# What `make release` builds into dist/: Linux where builds run, macOS and
# Windows as clients of a remote or docker-container:// builder.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: all build helper release test testdeps buildkit unit lint fuzz golden readme demo bench clean trim-cache

all: build

# Static (CGO_ENABLED=0), so that on Linux it can also stand in for
# lambdaimg-helper in containers of its own architecture.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lambdaimg

# lambdaimg-helper, the static program lambdaimg runs inside test
# containers, for both Linux architectures: in pkg/helper/bin (what release
# builds embed) and in bin/, next to bin/lambdaimg, where lambdaimg finds it.
helper: $(HELPERS)
	mkdir -p bin && cp $(HELPERS) bin/

pkg/helper/bin/lambdaimg-helper-linux-%: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags '-s -w' -o $@ ./cmd/lambdaimg-helper

# lambdaimg for every platform in RELEASE_PLATFORMS, each with both helpers
# embedded (-tags lambdaimg_release), into dist/.
release: $(HELPERS)
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/lambdaimg-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -tags lambdaimg_release \
			-ldflags '$(LDFLAGS)' -o dist/lambdaimg-$$os-$$arch$$ext ./cmd/lambdaimg; \
	done

FORCE:

# The whole suite: formatting and vet, every test (the end-to-end ones
# against a real buildkitd, which lambdaimg starts itself), and a short fuzz
# run of the catalog loader. It installs what it needs first.
test: testdeps lint trim-cache unit fuzz

# What the end-to-end tests need: BuildKit (runc, buildkitd, qemu for
# arm64), the Runtime Interface Emulator built from the Go module proxy, and
# Debian/busybox base tarballs made with debootstrap.
testdeps: buildkit
	scripts/install-rie.sh .cache/rie
	scripts/make-test-bases.sh .cache/bases

# lambdaimg's own buildkitd keeps the layers of every run until its garbage
# collector finds the disk nearly full, and a day of test runs grew it past
# 60 GB here. Before each run keep only the most recently used KEEP_CACHE.
KEEP_CACHE ?= 10GB
trim-cache: build
	@if $(BIN) builder status >/dev/null 2>&1; then $(BIN) builder prune --keep-storage $(KEEP_CACHE); \
	else echo "lambdaimg's buildkitd is not running: no cache to trim"; fi

buildkit:
	REQUIRE_ARM64=$${REQUIRE_ARM64:-$$( [ "$$CI" = true ] && echo 1 || echo 0 )} scripts/install-buildkit.sh

lint:
	@out=$$(gofmt -l cmd pkg internal *.go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 40m ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) -timeout 10m ./pkg/catalog

# Rewrite the golden build contexts after changing templates or the catalog.
golden:
	$(GO) test ./pkg/render -run TestGolden -update

# Rewrite the support matrix in README.md from the catalog.
readme: build
	scripts/update-readme.sh $(BIN)

# The main job, end to end on a fresh machine, no image registry: install BuildKit,
# make local bases, render every context, build images for both
# architectures and show them.
demo: build helper
	BIN=$(BIN) scripts/demo.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./pkg/render ./pkg/publish

clean:
	rm -rf bin contexts dist $(HELPERS)
