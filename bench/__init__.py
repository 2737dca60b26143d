"""Benchmark harness of the gateway (not part of the test run): python -m bench.run --help."""
