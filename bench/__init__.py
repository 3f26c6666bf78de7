"""Benchmarks: run by hand or in CI, never as timed tests. Each reports a ratio against a
baseline measured in the same run."""
