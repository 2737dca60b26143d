"""Gateway tests (a package, so tests/auth cannot shadow the top-level auth package)."""
