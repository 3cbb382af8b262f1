"""Benchmarks that print ratios against the engine's limits."""
