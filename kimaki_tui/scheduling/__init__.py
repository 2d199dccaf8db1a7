"""Scheduled sends: `--send-at` parsing, standard cron and the apscheduler runner (the tasks
themselves live in the Store's task slice).

Core-side code: it never imports discord. Firing a task calls an injected `TaskSubmitter` that
the composition root provides (the bot's, in a running kimaki).
"""
