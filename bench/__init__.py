"""Benchmarks (not run by `make test`): `python -m bench` runs every `bench/*_bench.py`."""
