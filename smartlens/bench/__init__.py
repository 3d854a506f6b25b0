"""Benchmarks: ``python -m smartlens bench NAME``. Each prints its figures and can save JSON."""
