"""Identity (who is calling) and policies (what they may see and do)."""
