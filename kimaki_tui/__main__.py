"""`python -m kimaki_tui` runs the same entry point as the `kimaki` command."""

from kimaki_tui.cli.main import main

raise SystemExit(main())
