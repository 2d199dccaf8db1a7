"""Scheduled sends: `--send-at` parsing, standard cron, persisted tasks and the apscheduler runner.

Core-side code: it never imports discord. Firing a task calls an injected "post starter message"
callable that the composition root provides.
"""
