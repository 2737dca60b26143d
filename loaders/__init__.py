"""Per-request batching dataloaders, one module per domain; `loaders.registry.Loaders` holds them."""
