# The one test command (README.md): installs what the tests need, then checks and tests everything.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS        := ./...

.PHONY: test deps fmt-check vet staticcheck unit allocs hitratio bench demo

test: deps fmt-check vet cross staticcheck unit allocs hitratio

# deps installs and starts the services the tests need: redis-server,
# redis-tools, chromium and python3-numpy (Debian packages; chromium for
# server/web's dashboard test, numpy to read the .npy files it serves; the cluster tests start their own Redis
# Cluster on 127.0.0.1:7000–7025 and stop it), and an S3-compatible
# server (versitygw) on 127.0.0.1:7070 for the glacier tests, serving
# VGW_DIR with the test credentials internal/s3test uses. It is started
# only if nothing listens there yet, and keeps running after make returns;
# the test bucket's prefixes older than two hours are removed.
VERSITYGW     := github.com/versity/versitygw/cmd/versitygw@v1.8.0
VGW_ADDR      := 127.0.0.1:7070
VGW_DIR       ?= $(or $(TMPDIR),/tmp)/tiermem-versitygw
VGW_BIN       = $$($(GO) env GOPATH | cut -d: -f1)/bin/versitygw

deps: SHELL := /bin/bash
deps:
	@$(GO) version
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v chromium >/dev/null && \
		/usr/bin/python3 -c 'import numpy' 2>/dev/null || \
		{ apt-get update -q && apt-get install -y redis-server redis-tools chromium python3-numpy; } || \
		{ echo "cannot install redis-server, redis-tools, chromium and python3-numpy: the cluster, dashboard and .npy tests need them"; exit 1; }
	@if ! (exec 3<>/dev/tcp/$(subst :,/,$(VGW_ADDR))) 2>/dev/null; then \
		test -x "$(VGW_BIN)" || $(GO) install $(VERSITYGW) || exit 1; \
		mkdir -p $(VGW_DIR); \
		ROOT_ACCESS_KEY_ID=tiermem ROOT_SECRET_ACCESS_KEY=tiermem-secret-key \
			nohup "$(VGW_BIN)" --port $(VGW_ADDR) --quiet posix $(VGW_DIR) >$(VGW_DIR).log 2>&1 & \
		for i in $$(seq 100); do (exec 3<>/dev/tcp/$(subst :,/,$(VGW_ADDR))) 2>/dev/null && break; sleep 0.1; done; \
		(exec 3<>/dev/tcp/$(subst :,/,$(VGW_ADDR))) 2>/dev/null || { echo "versitygw did not start: see $(VGW_DIR).log"; exit 1; }; \
	fi
	@echo "versitygw listening on $(VGW_ADDR)"
	@# Each glacier test writes under a prefix of its own and leaves it; a
	@# machine that runs the suite again and again keeps only the last two hours of them (a run takes 20 minutes).
	@find $(VGW_DIR)/tiermem-test -mindepth 1 -maxdepth 1 -mmin +120 -exec rm -rf {} + 2>/dev/null || true

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	cd benchmarks && $(GO) vet ./...   # the peer comparisons, a module of their own

# cross builds and vets (tests included) both modules for every system tiermem
# supports, one line per platform; Windows and 32-bit systems are refused at
# compile time on purpose (checked for linux/386).
.PHONY: cross
cross:
	@for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64; do \
		os=$${p%/*}; arch=$${p#*/}; \
		if GOOS=$$os GOARCH=$$arch $(GO) build $(PKGS) && GOOS=$$os GOARCH=$$arch $(GO) vet $(PKGS) && \
			(cd benchmarks && GOOS=$$os GOARCH=$$arch $(GO) build ./... && GOOS=$$os GOARCH=$$arch $(GO) vet ./...); \
		then echo "cross $$p: ok"; else echo "cross $$p: FAILED"; exit 1; fi; \
	done
	@if GOOS=linux GOARCH=386 $(GO) build $(PKGS) 2>&1 | grep -q tiermem_requires_a_64_bit_system; \
	then echo "cross linux/386: refused at compile time, as it should be"; else echo "cross linux/386: FAILED (not refused)"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# allocs runs the tests that count allocations (testing.AllocsPerRun) without
# the race detector, which allocates and makes sync.Pool drop what it is given,
# so that they skip or loosen their checks under -race: a read that began to
# allocate went unnoticed while only `unit` ran them.
ALLOCS_PKGS = . ./server/web ./bundle/record
allocs:
	$(GO) test -count=1 -run 'Alloc' $(ALLOCS_PKGS)

# hitratio replays the shared cache traces (about a minute); too slow under -race,
# so it runs apart, and fails if a change costs hit ratio.
hitratio:
	$(GO) test -count=1 -timeout 10m -run 'HitRatio' ./cache/...

# bench runs every benchmark: the packages' own, then the peer comparisons of the
# benchmarks/ module (a module of its own, which ./... does not reach).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	cd benchmarks && $(GO) test -run '^$$' -bench . -benchmem ./...

demo:
	$(GO) run ./cmd/tiermem demo
