"""The markdown-aware message splitter: fixed cases and seeded random documents."""

from __future__ import annotations

import random
import re

import pytest

from kimaki_tui.presentation.split import MIN_LIMIT, split_message, split_pieces

FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "mu"]


def fence_len(opener: str) -> int:
    return len(opener) - len(opener.lstrip(opener[0]))


def open_fence_after(text: str) -> str:
    """The opener of the code block still open at the end of `text` ("" if none); test's own scanner."""
    opener = ""
    for line in text.split("\n"):
        match = FENCE.match(line.strip())
        if not match:
            continue
        mark, info = match.group(1), match.group(2)
        if not opener:
            opener = line.strip()
        elif mark[0] == opener[0] and len(mark) >= fence_len(opener) and not info.strip():
            opener = ""
    return opener


def block_content(text: str) -> str:
    """The lines after the opening fence of the code block open at the end of `text`."""
    lines = text.split("\n")
    for index in range(len(lines), -1, -1):
        if open_fence_after("\n".join(lines[:index])) == "":
            return "\n".join(lines[index + 1 :])
    return text


def random_document(rng: random.Random) -> str:
    blocks: list[str] = []
    for _ in range(rng.randint(1, 25)):
        roll = rng.random()
        if roll < 0.35:
            lang = rng.choice(["", "python", "diff", "ts"])
            fence = rng.choice(["```", "```", "~~~", "````"])
            body = "\n".join(
                "    " * rng.randint(0, 2) + " ".join(rng.choices(WORDS, k=rng.choice([0, 5, 14, 400])))
                for _ in range(rng.randint(0, 60))
            )
            inner = "\n```\n" if fence == "````" else "\n"  # a shorter fence inside does not close it
            blocks.append(f"{fence}{lang}\n{body}{inner}{fence}")
        elif roll < 0.45:
            blocks.append(" ".join(rng.choices(WORDS, k=rng.randint(300, 700))))  # one very long line
        else:
            lines = [" ".join(rng.choices(WORDS, k=rng.randint(1, 20))) for _ in range(rng.randint(1, 8))]
            blocks.append("\n".join(lines))
    return rng.choice(["\n\n", "\n", "\n\n\n"]).join(blocks) + rng.choice(["", "\n"])


@pytest.mark.parametrize("seed", range(120))
def test_random_documents(seed: int) -> None:
    rng = random.Random(seed)
    text = random_document(rng)
    limit = rng.choice([MIN_LIMIT, 500, 2000])
    pieces = split_pieces(text, limit)
    chunks = split_message(text, limit)

    assert "".join(p.body for p in pieces) == text  # nothing lost, nothing reordered
    assert chunks == [p.text for p in pieces if p.body.strip()] or (len(text) <= limit and chunks == [text])
    offset = 0
    for piece in pieces:
        assert len(piece.text) <= limit
        assert piece.body
        opener = open_fence_after(text[:offset])
        # A chunk starting inside a code block reopens exactly that block (same fence, same language).
        assert piece.prefix == (opener + "\n" if opener else "")
        offset += len(piece.body)
        if offset < len(text):
            # ... and one ending inside a block closes it, so every chunk is balanced on its own.
            assert open_fence_after(piece.text) == ""
            assert piece.body[-1].isspace(), "cut inside a word"
            if piece.suffix and piece.body.strip():
                assert block_content(piece.prefix + piece.body).strip(), "a chunk ends on an empty code block"
    for chunk in chunks:
        assert chunk.strip()


def test_short_text_is_one_message_and_blank_is_none() -> None:
    assert split_message("hello") == ["hello"]
    assert split_message("") == []
    assert split_message(" \n\n ") == []


def test_prefers_paragraph_boundaries() -> None:
    # Five lines of ~70 characters each: a line-greedy cut would land inside a paragraph.
    paragraphs = ["\n".join(" ".join(["word"] * 14) for _ in range(5)) for _ in range(20)]
    chunks = split_message("\n\n".join(paragraphs))
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        assert chunk.endswith("\n\n")
        assert len(chunk) > 1000


def test_code_block_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"value_{i} = compute({i})" for i in range(200))
    chunks = split_message(f"Intro.\n\n```python\n{code}\n```\n\nDone.")
    assert len(chunks) >= 3
    assert chunks[0].endswith("\n```")
    for chunk in chunks[1:-1]:
        assert chunk.startswith("```python\n") and chunk.endswith("\n```")
    assert chunks[-1].rstrip().endswith("Done.")


def test_a_word_longer_than_the_limit_is_hard_split() -> None:
    word = "x" * 5000
    chunks = split_message(f"before {word} after")
    assert all(len(c) <= 2000 for c in chunks)
    assert "".join(chunks) == f"before {word} after"


def test_long_line_in_code_block_is_hard_split_inside_fences() -> None:
    chunks = split_message("```\n" + "y" * 4500 + "\n```")
    assert len(chunks) == 3
    assert all(c.startswith("```") and c.endswith("```") and len(c) <= 2000 for c in chunks)


def test_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        split_pieces("a" * 500, MIN_LIMIT - 1)
