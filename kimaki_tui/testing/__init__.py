"""Faithful local fakes used by the test suite and `kimaki demo`: scripted model, Discord twin."""
