# MNIST Lab — the two commands that matter: `make serve` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
# One persistent target dir outside the clone: CI's fresh clones reuse the 25-minute burn build.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/mnist-lab/target
export PATH := $(HOME)/.cargo/bin:$(PATH)
# The native build's cargo features. Every native cargo command here passes the same ones, so
# that the tests, the CLI and make dist share one build of burn (a feature flip rebuilds it):
# `vulkan` adds the CLI's --device vulkan, which tests/vulkan.rs runs on Mesa's lavapipe.
NATIVE_FEATURES ?= vulkan
NATIVE := --release --features "$(NATIVE_FEATURES)"
# Each phase of `make test` says when it starts, so that a run's log gives its phase times.
PHASE = @echo "== $@ starts at $$(date +%T)"
ADDRESS ?= 127.0.0.1
PORT ?= 8080

.PHONY: dist bench bench-peers bench-rounds serve test lint setup setup-browser setup-vulkan data build-web test-native test-wasm test-e2e clean-dist

## Set up what is missing, then serve the app with live reload on http://$(ADDRESS):$(PORT)
serve: setup
	trunk serve --release --offline --address $(ADDRESS) --port $(PORT)

## Run every test: the lint first, then native engine tests, wasm tests in headless Chromium,
## end-to-end page tests.
test: lint setup-browser test-native test-wasm test-e2e
	@echo "== test ends at $$(date +%T)"

## Formatting, the layout rules (no import cycle among src/ files, none over 500 lines), and
## clippy on both targets with warnings as errors (the browser's twice: the workers' module with
## `webgpu`, the page's without). `--release`: clippy then reuses the release
## build's proc-macros and build scripts instead of building them a second time.
lint: setup
	$(PHASE)
	cargo fmt --check
	python3 scripts/check-layout.py
	cargo clippy $(NATIVE) --all-targets -- -D warnings
	cargo clippy --release --target wasm32-unknown-unknown --features webgpu --lib --bins --test browser -- -D warnings
	cargo clippy --release --target wasm32-unknown-unknown --lib --bins -- -D warnings

setup: data
	$(PHASE)
	./scripts/setup.sh

setup-browser: data
	$(PHASE)
	./scripts/setup.sh --browser

## Mesa's Vulkan drivers (lavapipe: Vulkan on the CPU) for tests/vulkan.rs.
setup-vulkan: data
	$(PHASE)
	./scripts/setup.sh --vulkan

## Fetch and verify MNIST and Fashion-MNIST into static/data (idempotent).
data:
	./scripts/fetch-data.sh

test-native: setup-vulkan
	$(PHASE)
	cargo test $(NATIVE) --lib --bins --test cli --test drawn_digits --test gan --test rank_rules --test fuzz --test conv_cpu --test vulkan --example devtools

## wasm-side tests (WebGPU init, forward pass, async readback) in headless Chromium with WebGPU.
test-wasm:
	$(PHASE)
	CHROMEDRIVER=$$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=600 \
	  cargo test --release --target wasm32-unknown-unknown --features webgpu --test browser

## Build the page with trunk into dist/.
build-web:
	$(PHASE)
	trunk build --release --offline

## The hosted build: a static folder (site/) that works from any sub-path (GitHub Pages), with
## the data and models, a strict Content-Security-Policy and no request to another origin.
dist: setup
	$(PHASE)
	trunk build --release --offline --public-url ./ --dist site
	cargo run $(NATIVE) --example devtools -- harden-dist site

## Serve dist/ on 127.0.0.1 and drive it with chromedriver (screenshots land in target/e2e/);
## one test serves site/ (make dist) from a sub-path; one runs axe-core (scripts/axe-setup.sh) in every view.
test-e2e: build-web dist
	$(PHASE)
	./scripts/axe-setup.sh
	cargo test $(NATIVE) --test e2e -- --nocapture --test-threads 1

## Benchmarks (not timed tests): native CPU numbers, then the page in headless Chromium on the
## CPU backend and WebGPU, then the hosted build (site/) with the network throttled: first
## visit, second visit, offline start, module sizes → target/bench/results.json and BENCHMARKS.md
bench: setup-browser setup-vulkan build-web dist
	cargo run $(NATIVE) --example devtools -- bench --out target/bench/native.json
	cargo run $(NATIVE) --example devtools -- bench --device vulkan --out target/bench/native-vulkan.json
	CHROMEDRIVER=$$(command -v chromedriver) cargo run $(NATIVE) --example bench_browser -- --out target/bench/browser.json
	CHROMEDRIVER=$$(command -v chromedriver) cargo run $(NATIVE) --example bench_site -- --out target/bench/site.json
	$(MAKE) bench-peers || echo "bench: the peers did not run (npm or the browser failed); the report leaves them out"
	$(MAKE) bench-rounds || echo "bench: the alternating rounds did not all run; the report judges the ratio on those that did, or on the one pair"
	cargo run $(NATIVE) --example devtools -- bench-report --native target/bench/native.json --vulkan target/bench/native-vulkan.json --browser target/bench/browser.json \
	  --json target/bench/results.json --out BENCHMARKS.md

## Our MLP step and jax-js's, alternately, five times (→ target/bench/rounds/): this emulator's
## time moves up to 2× between runs minutes apart, so issue #15's ratio is judged on the median
## of the rounds' paired ratios, not on one pair taken a quarter of an hour apart. Odd rounds
## run ours first, even rounds jax-js's, so that neither always has the other's wake.
ROUNDS := 1 2 3 4 5
bench-rounds: setup-browser build-web
	rm -rf target/bench/rounds && mkdir -p target/bench/rounds
	./scripts/peers-setup.sh
	CHROMEDRIVER=$$(command -v chromedriver); export CHROMEDRIVER; \
	ours() { cargo run $(NATIVE) --example bench_browser -- \
	  --backends webgpu --only mlp --out target/bench/rounds/ours-$$1.json; }; \
	jax() { cargo run $(NATIVE) --example bench_peers -- \
	  --only jaxjs --out target/bench/rounds/jaxjs-$$1.json; }; \
	for n in $(ROUNDS); do \
	  if (( n % 2 )); then ours $$n; jax $$n; else jax $$n; ours $$n; fi; \
	done

## The peers on the same adapter (jax-js, TensorFlow.js from npm into target/peers) →
## target/bench/peers.json, which `make bench`'s report compares burn with.
bench-peers: setup-browser
	./scripts/peers-setup.sh
	CHROMEDRIVER=$$(command -v chromedriver) cargo run $(NATIVE) --example bench_peers -- --out target/bench/peers.json
