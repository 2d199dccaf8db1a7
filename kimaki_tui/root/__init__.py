"""The composition root: the one place that builds kimaki's services and runs the process.

- `offline.py`: what one-shot commands need without a running kimaki (the run's one SecretStore).
- `build.py`: `Services`, everything one run owns, built once in order and closed in reverse.
- `run.py`: the process — OpenCode spawned first, the lock port, signals, headless or the control
  center, restart in place; start-up failures become typed errors the command line shows on one line.
- `headless.py` and `tui.py`: the two ways a run waits (a terminal line when ready, or the control
  center with its setup wizard).

Only the command line and `kimaki demo` import this package; nothing here runs at import time.
"""
