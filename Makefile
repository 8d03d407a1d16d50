# strata: `make run` and `make test` work on a fresh machine; each installs
# what is missing first (idempotent: a second run only checks).
#
#   make run     build the core, the wasm module and the npm package, run the
#                Node CLI on examples/migrations, then start strata-server and
#                push and pull that directory (scripts/registry-demo.sh); last,
#                in the foreground, the web viewer on http://127.0.0.1:8080/
#                with demo directories and a SQLite target to deploy to
#                (scripts/viewer-demo.sh; Ctrl-C stops it)
#   make test    every test: Rust unit and conformance tests, the server's
#                suites on embedded storage and again on PostgreSQL + S3
#                (scripts/services.sh), the conformance suites in headless
#                Chromium, Node tests of the npm package and its CLI (against
#                a real server), the web viewer end to end in Chromium
#                (tests/e2e), formatting and lints
#   make bench   benchmarks (criterion, Node, the registry with wrk); figures
#                go in the README
#   make fuzz    seed and run the four fuzz targets (FUZZ_SECONDS each, default 600)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CHROMEDRIVER := /usr/bin/chromedriver

# wasm-pack runs the wasm-bindgen CLI on PATH, which must be the exact version
# in Cargo.toml (pinned there with `=`).
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
# wasm-opt from npm: Debian's binaryen (108) emits modules Node 20 rejects.
BINARYEN_VERSION := 132
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
CARGO_FUZZ_TOOLCHAIN := nightly
FUZZ_SECONDS ?= 600

.PHONY: run test build pkg www tools browser-tools bench-tools fuzz-tools lint test-rust test-scale test-wasm test-node test-e2e bench fuzz clean

## Toolchain -----------------------------------------------------------------

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@command -v wasm-pack >/dev/null || cargo install wasm-pack --locked
	@# No --locked: the registry here lacks some versions pinned by its lock file.
	@wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@wasm-opt --version 2>/dev/null | grep -q "version $(BINARYEN_VERSION)" \
		|| npm install --prefix $(TOOLS) --no-save --no-package-lock --no-audit --no-fund binaryen@$(BINARYEN_VERSION) >/dev/null

browser-tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver; }

fuzz-tools:
	@rustup toolchain list | grep -q '^$(CARGO_FUZZ_TOOLCHAIN)' || rustup toolchain install $(CARGO_FUZZ_TOOLCHAIN) --profile minimal
	@command -v cargo-fuzz >/dev/null || cargo +$(CARGO_FUZZ_TOOLCHAIN) install cargo-fuzz --locked

## Build -----------------------------------------------------------------------

build: tools
	cargo build --release --workspace

# The npm package: wasm-pack's output, optimised by wasm-opt, plus the Node
# entry point and the CLI (npm/finalize.mjs). The lint module (wasm-lint/,
# sqlparser) is a second wasm module in pkg/lint/, loaded only by lint() and
# preview(); wasm-pack's --out-dir is relative to the crate.
pkg: tools
	wasm-pack build --release --target web --out-dir pkg --weak-refs --no-opt
	wasm-opt -O3 pkg/strata_bg.wasm -o pkg/strata_bg.wasm
	wasm-pack build wasm-lint --release --target web --out-dir ../pkg/lint --weak-refs --no-opt
	wasm-opt -O3 pkg/lint/strata_lint_bg.wasm -o pkg/lint/strata_lint_bg.wasm
	node npm/finalize.mjs
	@for w in pkg/strata_bg.wasm pkg/lint/strata_lint_bg.wasm; do \
		echo "$$w: $$(stat -c%s $$w) bytes, $$(gzip -9c $$w | wc -c) gzipped"; done

# The web viewer's files, served by `strata-server serve --www target/www`:
# the page shell (www/), the wasm module and its JS glue, report.css, the
# core's stylesheet of the report fragments (reportCss()), and in lint/ the
# lint module and its glue, which the viewer loads only for views that show
# findings.
WWW := target/www
www: pkg
	@mkdir -p $(WWW)/lint
	cp www/* pkg/strata.js pkg/strata_bg.wasm $(WWW)/
	cp pkg/lint/strata_lint.js pkg/lint/strata_lint_bg.wasm $(WWW)/lint/
	node -e 'import("./pkg/node.mjs").then(m => process.stdout.write(m.reportCss()))' > $(WWW)/report.css.tmp
	mv $(WWW)/report.css.tmp $(WWW)/report.css

## The main job ----------------------------------------------------------------

STRATA := node pkg/bin/strata.mjs
EXAMPLE := examples/migrations

run: pkg www
	@echo "== strata verify: the committed atlas.sum matches the files"
	$(STRATA) verify --dir $(EXAMPLE)
	@echo "== strata hash: recomputing it gives the same bytes"
	@rm -rf target/run && mkdir -p target/run && cp -r $(EXAMPLE) target/run/
	$(STRATA) hash --dir target/run/migrations
	cmp target/run/migrations/atlas.sum $(EXAMPLE)/atlas.sum && cat target/run/migrations/atlas.sum
	@echo "== strata verify after an edit: Atlas's error, exit 1"
	@printf '\n-- edited\n' >> target/run/migrations/20240102000000_create_posts.sql
	$(STRATA) verify --dir target/run/migrations || test $$? -eq 1
	@echo "== strata statements (postgres)"
	@for f in $(EXAMPLE)/*.sql; do echo "## $$f"; $(STRATA) statements $$f --dialect postgres; done
	@echo "== strata status: a database where file 2 stopped at statement 2 (examples/revisions.json); exit 3 = pending"
	$(STRATA) status --dir $(EXAMPLE) --dialect postgres --revisions examples/revisions.json || test $$? -eq 3
	@echo "== strata plan: what would run, resuming file 2 at statement 2; exit 3 = pending"
	$(STRATA) plan --dir $(EXAMPLE) --dialect postgres --revisions examples/revisions.json || test $$? -eq 3
	@echo "== strata plan --markdown: a fresh database, up to the first version (for a pull request)"
	@echo '[]' > target/run/none.json
	$(STRATA) plan --dir $(EXAMPLE) --dialect postgres --revisions target/run/none.json --to-version 20240101000000 --markdown || test $$? -eq 3
	cargo build -p strata-server
	scripts/registry-demo.sh target/debug/strata-server
	@echo "== the web viewer: strata-server serve --www $(WWW), demo directories, a SQLite target"
	scripts/viewer-demo.sh target/debug/strata-server $(WWW)

## Tests -----------------------------------------------------------------------

test: lint test-rust test-scale test-wasm test-node test-e2e

lint: tools
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --features strata/lint -- -D warnings
	@# strata-server (tokio, sqlx) is native only.
	cargo clippy --workspace --exclude strata-server --all-targets --target wasm32-unknown-unknown --features strata/lint -- -D warnings
	@# The main module as make pkg builds it: without lint.
	cargo clippy -p strata --lib --target wasm32-unknown-unknown -- -D warnings

test-rust: tools
	cargo test --workspace --features strata/lint

# The server's suites again with PostgreSQL metadata and S3 blobs (moto), both
# started on loopback by scripts/services.sh and stopped afterwards.
test-scale: tools
	@trap 'scripts/services.sh stop' EXIT; \
		eval "$$(scripts/services.sh start)"; \
		cargo test -p strata-server

# The core's wasm-bindgen tests and the conformance suites, in Chromium.
test-wasm: tools browser-tools
	wasm-pack test --headless --chrome
	wasm-pack test --headless --chrome tests/conformance

# Dev-only npm tools of the package tests (playwright-core, esbuild, workerd),
# pinned in npm/package-lock.json; reinstalled when that changes.
npm/node_modules/.package-lock.json: npm/package.json npm/package-lock.json
	npm ci --prefix npm --no-audit --no-fund

# The npm package built fresh: its API and CLI in Node, and the package in
# Chromium (as is and bundled by esbuild) and in workerd.
test-node: pkg browser-tools npm/node_modules/.package-lock.json
	cargo build -p strata-server
	STRATA_SERVER_BIN=$(CURDIR)/target/debug/strata-server node --test npm/test/

# The web viewer end to end: a real strata-server serving target/www, a
# SQLite target, the demo directories pushed, Chromium driven through every
# view; screenshots in target/e2e/screenshots, timings in target/e2e/perf.json.
test-e2e: www browser-tools npm/node_modules/.package-lock.json
	cargo build -p strata-server
	STRATA_SERVER_BIN=$(CURDIR)/target/debug/strata-server node --test tests/e2e/

## Benchmarks and fuzzing ------------------------------------------------------

bench-tools:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk; }
	@# sqlx-cli, the hook's yardstick (benches/hook.mjs); about 5 minutes to build.
	@command -v sqlx >/dev/null || cargo install sqlx-cli --no-default-features --features postgres,rustls

bench: pkg bench-tools
	cargo bench --features lint --bench sum --bench lex --bench plan --bench lint
	node benches/wasm.mjs
	@# The registry: push/pull with the CLI against a release server, wrk on manifests.
	cargo build --release -p strata-server
	node benches/registry.mjs
	@# The hook: 1,000 files applied to PostgreSQL over HTTP, beside sqlx-cli and psql.
	node benches/hook.mjs
	@# The CLI over the same 10,000 files on disk: time and peak memory.
	rm -rf target/bench-dir && node benches/wasm.mjs --write-dir target/bench-dir
	/usr/bin/time -v $(STRATA) hash --dir target/bench-dir 2>&1 | grep -E 'Elapsed|Maximum resident'
	/usr/bin/time -v node benches/wasm.mjs --only sum --runs 1 2>&1 | grep -E 'Maximum resident'

fuzz: fuzz-tools
	fuzz/seed.sh
	cd fuzz && for t in lex sum_parse directory directive plan; do \
		cargo +$(CARGO_FUZZ_TOOLCHAIN) fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096; \
	done

clean:
	cargo clean
	rm -rf pkg $(TOOLS) npm/node_modules
