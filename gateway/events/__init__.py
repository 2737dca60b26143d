"""Deal events published after commit, and the brokers that carry them to subscribers."""
