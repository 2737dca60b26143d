"""Deal approval workflow: which stages a deal needs, and in what order."""
