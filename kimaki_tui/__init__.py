"""kimaki-tui: drive OpenCode coding sessions from Discord, with a Textual control center."""

__version__ = "0.1.0"
