"""Benchmarks: the seeded synthetic graph (bench/generate.py) and the suite (bench/run_all.py)."""
