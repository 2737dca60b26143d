"""The bottom floor: settings, errors, ids, logging, metrics, and the tables every store shares."""
