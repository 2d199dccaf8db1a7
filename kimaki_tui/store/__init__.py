"""Persistent state in SQLite (peewee): projects, threads, queue, pending requests, scheduled tasks."""
