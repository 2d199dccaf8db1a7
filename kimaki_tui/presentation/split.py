"""Split markdown into chat-sized messages without breaking words or code blocks.

`split_message` cuts at a paragraph boundary when one is reasonably far into the chunk, else at
a line boundary; a line longer than a whole message is cut at its last space that fits, or hard.
A cut inside a fenced code block closes the fence at the end of the chunk and reopens it (same
fence, same language) at the start of the next, so every chunk renders on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MESSAGE_LIMIT = 2000
"""The longest message a chat (Discord) takes, in characters."""
MIN_LIMIT = 200
"""Below this a reopened fence plus one line may not fit; MESSAGE_LIMIT is far above it."""

# CommonMark fence: up to 3 spaces, then 3+ backticks or tildes. Long openers are ignored so the
# reopened fence stays small next to the limit.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})([^\n]*)$")
_MAX_OPENER = 80


@dataclass(frozen=True, slots=True)
class Piece:
    """One chunk: `body` is a slice of the original text; `prefix`/`suffix` are added fences."""

    prefix: str
    body: str
    suffix: str

    @property
    def text(self) -> str:
        return self.prefix + self.body + self.suffix


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters whose concatenation, minus added fences, is `text`.

    Chunks that would be blank (whitespace only) are dropped; chats refuse empty messages.
    """
    if len(text) <= limit:
        return [text] if text.strip() else []
    return [piece.text for piece in split_pieces(text, limit) if piece.body.strip()]


def split_pieces(text: str, limit: int = MESSAGE_LIMIT) -> list[Piece]:
    """The chunks with their added fence markers kept apart (`"".join(bodies) == text`)."""
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}")
    lines = text.splitlines(keepends=True)
    fences = _fence_states(lines)
    pieces: list[Piece] = []
    i = 0
    while i < len(lines):
        opener = fences[i]
        prefix = opener + "\n" if opener else ""
        budget = limit - len(prefix)
        end = _avoid_empty_block(lines, fences, i, _chunk_end(lines, fences, i, budget), budget)
        if end == i:
            _break_line(lines, fences, i, budget)
            continue
        body = "".join(lines[i:end])
        pieces.append(Piece(prefix, body, _closing(fences[end], body)))
        i = end
    return pieces


def _fence_states(lines: list[str]) -> list[str]:
    """For each line index, the opener of the code block open *before* that line ("" if none).

    The list has one extra entry: the state after the last line.
    """
    states: list[str] = []
    opener = ""
    for line in lines:
        states.append(opener)
        match = _FENCE.match(line.rstrip("\r\n"))
        if match is None:
            continue
        mark, info = match.group(1), match.group(2)
        if not opener:
            if len(line) <= _MAX_OPENER and not (mark[0] == "`" and "`" in info):
                opener = line.strip()
        elif mark[0] == opener[0] and len(mark) >= _fence_len(opener) and not info.strip():
            opener = ""
    states.append(opener)
    return states


def _fence_len(opener: str) -> int:
    return len(opener) - len(opener.lstrip(opener[0]))


def _closing(opener: str, body: str) -> str:
    """The fence that closes a chunk ending inside a code block ("" outside one)."""
    if not opener:
        return ""
    fence = opener[0] * _fence_len(opener)
    return fence if body.endswith("\n") else "\n" + fence


def _chunk_end(lines: list[str], fences: list[str], start: int, budget: int) -> int:
    """The line index where the chunk starting at `start` should end (== start if none fits)."""
    size = 0
    end = start
    paragraph_end = 0
    paragraph_size = 0
    while end < len(lines):
        line = lines[end]
        closer = fences[end + 1]
        extra = (_fence_len(closer) + (0 if line.endswith("\n") else 1)) if closer else 0
        if size + len(line) + extra > budget:
            break
        size += len(line)
        end += 1
        if _is_paragraph_break(lines, fences, end):
            paragraph_end, paragraph_size = end, size
    if end == len(lines):
        return end
    # Prefer the last paragraph break unless it leaves the chunk less than half full.
    if paragraph_end > start and paragraph_size >= budget // 2:
        return paragraph_end
    return end


def _avoid_empty_block(lines: list[str], fences: list[str], start: int, end: int, budget: int) -> int:
    """Move a cut that would leave a code block empty in this chunk (just its opening fence).

    The fence then opens the next chunk; when it is this chunk's first line (or the chunk holds
    only blank lines of a block opened earlier), the next, long, line is cut to fill this chunk.
    """
    if not start < end < len(lines) or not fences[end]:
        return end
    opener = end - 1
    while opener >= start and fences[opener]:
        if lines[opener].strip():
            return end  # the block has content in this chunk
        opener -= 1
    if opener > start:
        return opener
    room = budget - sum(len(line) for line in lines[start:end])
    if room - _fence_len(fences[end]) - 1 < 20:
        return end
    _break_line(lines, fences, end, room)
    return end + 1


def _is_paragraph_break(lines: list[str], fences: list[str], index: int) -> bool:
    """True when a cut before `lines[index]` falls between blocks (after a blank line or a fence)."""
    if index >= len(lines):
        return True
    previous = lines[index - 1]
    if not fences[index]:
        return not previous.strip() or bool(fences[index - 1])  # blank line, or a block just closed
    return False


def _break_line(lines: list[str], fences: list[str], index: int, budget: int) -> None:
    """Cut `lines[index]` (too long for any chunk) in two, in place, at a space when possible."""
    line = lines[index]
    opener = fences[index]
    room = budget - (_fence_len(opener) + 1 if opener else 0)
    cut = line.rfind(" ", 0, room)
    if cut <= 0:
        cut = room
    else:
        cut += 1  # the space stays at the end of the first half
    lines[index : index + 1] = [line[:cut], line[cut:]]
    fences.insert(index + 1, opener)


def pack_texts(parts: Sequence[tuple[str, str]], limit: int = MESSAGE_LIMIT) -> list[tuple[str, list[str]]]:
    """Pack (id, text) pairs into as few messages of ≤ `limit` chars as keeps their order; each
    message comes with the ids of the texts it shows (a long text spans several messages)."""
    batches: list[tuple[str, list[str]]] = []
    for part_id, text in parts:
        for chunk in split_message(text, limit):
            if batches and len(batches[-1][0]) + 2 + len(chunk) <= limit:
                body, ids = batches[-1]
                batches[-1] = (f"{body}\n\n{chunk}", ids if part_id in ids else [*ids, part_id])
            else:
                batches.append((chunk, [part_id]))
    return batches
