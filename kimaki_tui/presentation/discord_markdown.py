"""Markdown that Discord cannot show, rewritten into markdown it can.

Discord renders no tables and only three heading levels. Outside code blocks, a pipe table (header
row, `---` / `:--:` separator row, body rows) becomes a code block with its columns aligned (`---:` columns
to the right), and `####`…`######` headings become `###`. Code blocks are left exactly as written.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^( {0,3})#{4,6}(?=\s)")
_SEPARATOR_CELL = re.compile(r"^:?-+:?$")
_INLINE_MARKS = re.compile(r"(\*\*|__|`)")


def for_discord(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            out.append(line)
            i += 1
            continue
        if match:
            fence = match.group(1)
            out.append(line)
            i += 1
            continue
        end = _table_end(lines, i)
        if end > i:
            out.extend(_table_block(lines[i:end]))
            i = end
            continue
        out.append(_HEADING.sub(r"\1###", line))
        i += 1
    return "\n".join(out)


def _cells(line: str) -> list[str] | None:
    """A table row's cells, or None when the line is not a row (needs a `|` between cells)."""
    row = line.strip()
    if "|" not in row:
        return None
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]


def _table_end(lines: list[str], start: int) -> int:
    """The index after a table starting at `start` (header, separator, rows); `start` if none."""
    header = _cells(lines[start])
    if header is None or start + 1 >= len(lines):
        return start
    separator = _cells(lines[start + 1])
    if separator is None or len(separator) != len(header):
        return start
    if not all(_SEPARATOR_CELL.match(cell) for cell in separator):
        return start
    end = start + 2
    while end < len(lines) and lines[end].strip() and _cells(lines[end]) is not None:
        end += 1
    return end


def _table_block(rows: list[str]) -> list[str]:
    header, separator, *body = [_cells(row) or [] for row in rows]
    width = len(header)
    table = [_fit(header, width), *(_fit(row, width) for row in body)]
    right = [cell.endswith(":") and not cell.startswith(":") for cell in separator]
    sizes = [max(len(row[col]) for row in table) for col in range(width)]

    def show(row: list[str]) -> str:
        cells = [c.rjust(sizes[k]) if right[k] else c.ljust(sizes[k]) for k, c in enumerate(row)]
        return " | ".join(cells).rstrip()

    rule = "-+-".join("-" * size for size in sizes)
    return ["```", show(table[0]), rule, *(show(row) for row in table[1:]), "```"]


def _fit(row: list[str], width: int) -> list[str]:
    """Cells without inline emphasis marks (shown literally in a code block), padded or cut to `width`."""
    cells = [_INLINE_MARKS.sub("", cell) for cell in row[:width]]
    return cells + [""] * (width - len(cells))
