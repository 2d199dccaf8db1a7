"""Stand-ins for the `opencode` binary, for supervisor tests of what the real one rarely does
(crash, hang, fail to start, report an unsupported version)."""

from __future__ import annotations

import stat
import sys
import textwrap
from pathlib import Path

# A fake `opencode` that serves /global/health (with REPORTED as its version, if any), announces
# its port like the real one, and exits after LIFETIME seconds (a crash, for the supervisor).
HEALTHY_THEN_EXIT = """
import http.server, json, sys, threading, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"healthy": True, **({"version": REPORTED} if REPORTED else {})}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"opencode server listening on http://127.0.0.1:{server.server_port}", flush=True)
time.sleep(LIFETIME)
print("fatal: simulated crash", file=sys.stderr, flush=True)
sys.exit(3)
"""

NEVER_HEALTHY = """
import sys, time
for i in range(50):
    print(f"\\x1b[31mboot step {i}\\x1b[0m", file=sys.stderr)
print("Error: database is locked (the last words)", file=sys.stderr, flush=True)
time.sleep(600)
"""

EXITS_AT_ONCE = """
import sys
print("Error: Unexpected error / ServeError", file=sys.stderr)
sys.exit(1)
"""


def fake_binary(
    tmp_path: Path, name: str, source: str, version: str = "1.18.33", reported: str | None = None
) -> str:
    """An executable running `source` with this Python. `--version` prints `version` at once;
    the health answer reports `reported` (default: the same; "" for no version at all)."""
    path = tmp_path / name
    answer = f"import sys\nif sys.argv[1:] == ['--version']:\n    print({version!r})\n    sys.exit(0)\n"
    answer += f"REPORTED = {version if reported is None else reported!r}\n"
    path.write_text(f"#!{sys.executable}\n{answer}{textwrap.dedent(source)}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)
