"""The store: one SQLAlchemy Core schema and data-access functions for every backend."""
