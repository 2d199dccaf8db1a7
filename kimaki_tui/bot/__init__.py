"""The Discord front end (discord.py), an adapter over the core."""
