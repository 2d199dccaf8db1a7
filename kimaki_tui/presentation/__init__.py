"""Chat-flavoured text for the core's events: rendering, splitting to message size, and the short
notices the bot posts (the control center uses some of it too). Pure functions, no discord.py."""
