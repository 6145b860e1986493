# The one test command (README.md): installs what the tests need, then checks and tests everything.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS        := ./...

.PHONY: test deps fmt-check vet staticcheck unit hitratio bench demo

test: deps fmt-check vet cross staticcheck unit hitratio

# deps installs and starts the services the tests need (none yet beyond Go itself).
deps:
	@$(GO) version

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	cd benchmarks && $(GO) vet ./...   # the peer comparisons, a module of their own

# cross builds and vets (tests included) both modules for every system tiermem
# supports, one line per platform; Windows is refused at compile time on purpose.
.PHONY: cross
cross:
	@for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64; do \
		os=$${p%/*}; arch=$${p#*/}; \
		if GOOS=$$os GOARCH=$$arch $(GO) build $(PKGS) && GOOS=$$os GOARCH=$$arch $(GO) vet $(PKGS) && \
			(cd benchmarks && GOOS=$$os GOARCH=$$arch $(GO) build ./... && GOOS=$$os GOARCH=$$arch $(GO) vet ./...); \
		then echo "cross $$p: ok"; else echo "cross $$p: FAILED"; exit 1; fi; \
	done

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

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
