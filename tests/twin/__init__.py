"""Tests of the Discord twin against the real discord.py client."""
