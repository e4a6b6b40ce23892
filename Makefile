.PHONY: run test setup lint bench

run:            ## set up, migrate, seed the demo store, start the server and the POS app
	scripts/run.sh

test:           ## set up (PostgreSQL included) and run the whole test suite
	scripts/test.sh

setup:
	scripts/setup.sh test

lint:
	.venv/bin/ruff check stormcom_pos server tests bench
	.venv/bin/lint-imports

bench:
	.venv/bin/python bench/bench_pricing.py
