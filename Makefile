# hullscan developer entry points. Everything runs from a local venv (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FIXTURES ?= /var/tmp/hullscan-fixtures
export HULLSCAN_FIXTURE_CACHE ?= $(FIXTURES)

.PHONY: dev system-deps demo test test-fast lint bench clean version-oracles

$(BIN)/hullscan: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $(BIN)/hullscan

dev: $(BIN)/hullscan

# Debian packages the fixtures, oracles and the HTML report test need (debootstrap, dpkg-query,
# rpm, chromium, go for `go version -m`, strip, ruby for Gem::Specification,
# composer, docker-registry + skopeo + htpasswd for the registry tests). Root only.
system-deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; for c in debootstrap:debootstrap dpkg-query:dpkg rpm:rpm zstd:zstd chromium:chromium go:golang-go strip:binutils ruby:ruby composer:composer docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils; do \
	    command -v $${c%%:*} >/dev/null || missing="$$missing $${c##*:}"; done; \
	  /usr/bin/python3 -c 'import rpm' 2>/dev/null || missing="$$missing python3-rpm"; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "not root: skipping apt packages (tests needing debootstrap/rpm will skip)"; fi

# Regenerate tests/oracles/versions/ with each ecosystem's real implementation (docs/versions.md).
# The tests only read the committed files: neither `test` nor `system-deps` needs any of this.
VERSION_ORACLE_DEBS := python3-apt python3-rpm maven ruby golang-go golang-golang-x-mod-dev \
	php-cli php-composer-semver librust-semver-dev
version-oracles: dev
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(VERSION_ORACLE_DEBS); fi
	$(BIN)/python scripts/gen_version_oracles.py

# Build a real Debian bookworm image from Debian's archive (debootstrap + apt in a chroot,
# cached) and print its SBOM.
SHARED_VULNDATA ?= ../shared/vulndata

demo: dev system-deps
	$(BIN)/python scripts/build_debian_fixture.py --cache-dir $(FIXTURES) --print-image > .demo-image
	$(BIN)/hullscan sbom "docker-archive:$$(cat .demo-image)" -f table
	@if [ -d "$(SHARED_VULNDATA)" ]; then \
	  test -f .demo-db.sqlite || $(BIN)/hullscan db build --from "$(SHARED_VULNDATA)" -o .demo-db.sqlite -q; \
	  $(BIN)/hullscan image "docker-archive:$$(cat .demo-image)" --db .demo-db.sqlite -f table; \
	else echo "no $(SHARED_VULNDATA): 'hullscan db update' downloads the feeds, then 'hullscan image IMAGE'"; fi

test: dev system-deps lint
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: dev
	$(BIN)/pytest -n 2 -m "not slow"

lint: dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: dev system-deps
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/bench_sbom.py --cache-dir $(FIXTURES)

clean:
	rm -rf $(VENV) .demo-image .demo-db.sqlite .pytest_cache .mypy_cache .ruff_cache
