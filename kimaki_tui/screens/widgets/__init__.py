"""Widgets of the control center, one module each."""
