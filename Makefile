# Wuye developer tasks. `make help` lists them.
# Cargo uses ./target here (or your CARGO_TARGET_DIR); CI (.ci/run) uses a cache
# outside the clone.

CARGO ?= cargo
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
CARGO_TARGET_DIR ?= $(CURDIR)/target

.PHONY: help run test test-pg lint openapi schemathesis bench ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

run: ## start the API server (WUYE_* env vars apply; default SQLite ./data/wuye.db on 127.0.0.1:8080)
	$(CARGO) run -- serve

test: ## all tests on SQLite
	$(CARGO) test --workspace

test-pg: ## all tests, integration tests also on PostgreSQL (TEST_POSTGRES_URL)
	WUYE_TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(CARGO) test --workspace

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

openapi: ## regenerate openapi/openapi.json from the code
	@mkdir -p openapi
	$(CARGO) run -q -- openapi > openapi/openapi.json.tmp || { rm -f openapi/openapi.json.tmp; exit 1; }
	mv openapi/openapi.json.tmp openapi/openapi.json
	@echo "openapi/openapi.json regenerated; commit it with the code change"

schemathesis: ## fuzz a fresh local server (SQLite, then PostgreSQL) with schemathesis, as CI does
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) bash .ci/run schemathesis

bench: ## load scenarios with wrk on a release build (BENCH_PG=1 adds PostgreSQL); not run by CI
	bash bench/run.sh

ci: ## the full CI run (.ci/run), as on the CI machine
	bash .ci/run
