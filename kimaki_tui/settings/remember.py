"""Writing one top-level setting into `<data-dir>/config.toml`, for a choice made interactively
(the wizard's "keep secrets in a file" on a machine without a keyring) that later runs must keep.

The rest of the file is kept as written: the key's line is replaced when it is already at the
top level, else the key is inserted before the first table (where a top-level key must go).
"""

from __future__ import annotations

import re
from pathlib import Path

from kimaki_tui.settings.load import read_config
from kimaki_tui.settings.tree import CONFIG_FILE

_TABLE = re.compile(r"^\s*\[")


def remember(data_dir: Path, key: str, value: bool, why: str) -> Path:
    """Set top-level `key = value` in the data dir's config.toml (created if missing, mode 0600);
    `why` becomes the line's comment. Raises SettingsError when the file is not valid TOML."""
    from kimaki_tui.private_files import write_private

    path = data_dir / CONFIG_FILE
    read_config(path)  # refuse to edit a file kimaki could not read back
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = f"{key} = {'true' if value else 'false'}  # {why}"
    own = re.compile(rf"^\s*{re.escape(key)}\s*=")
    top = next((i for i, line in enumerate(lines) if _TABLE.match(line)), len(lines))
    existing = next((i for i in range(top) if own.match(lines[i])), None)
    if existing is not None:
        lines[existing] = entry
    else:
        lines.insert(top, entry)
    write_private(path, "\n".join(lines) + "\n")
    return path
