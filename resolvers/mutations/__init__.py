"""One mutation per module, each validating its input in a function of its own."""
