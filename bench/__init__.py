"""Benchmarks: ``python -m bench.<name>`` from the project root, or ``python -m bench.run_all``."""
