"""Benchmarks: `python -m bench.<stage>`; JSON in bench/results/ plus a readable table."""
