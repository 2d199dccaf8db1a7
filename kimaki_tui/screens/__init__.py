"""The Textual control center, an adapter over the core."""
