"""Attachments end to end: what the scripted model receives for images and text files, and the
replies for files kimaki cannot use."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from kimaki_tui.opencode.parts import FilePart
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def user_message(model: ScriptedModel, marker: str) -> dict[str, Any]:
    """The last user message of the first model request whose latest user text has `marker`."""
    for body in model.requests:
        if body.get("tools") and marker in latest_user_text(body.get("messages", [])):
            return next(m for m in reversed(body["messages"]) if m.get("role") == "user")
    raise AssertionError(f"the model never received {marker!r}")


async def test_an_image_reaches_opencode_as_a_file_part(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    png = tiny_png()
    await bot_rig.user_says("owner", "IMG-MARKER what is this", attachments=[("dot.png", png, None)])
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    session_id = bot_rig.core.conversations.runtime(str(thread.id)).session_id
    assert session_id is not None
    messages = await bot_rig.core.client.messages(session_id, str(bot_rig.project_dir))
    user_parts = [p for m in messages if m.info.is_user for p in m.parts]
    [image] = [p for p in user_parts if isinstance(p, FilePart)]
    assert (image.mime, image.filename) == ("image/png", "dot.png")
    assert image.url == "data:image/png;base64," + base64.b64encode(png).decode()
    # The test model declares image input, so the picture itself reaches it.
    content = user_message(scripted_model, "IMG-MARKER")["content"]
    urls = [c["image_url"]["url"] for c in content if c.get("type") == "image_url"]
    assert urls and base64.b64encode(png).decode() in urls[0]


async def test_a_text_file_is_inlined_in_the_prompt(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    source = b"def answer():\n    return 42\n"
    await bot_rig.user_says("owner", "TXT-MARKER review", attachments=[("calc.py", source, None)])
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    text = latest_user_text([user_message(scripted_model, "TXT-MARKER")])
    assert "TXT-MARKER review" in text
    assert "Attached file `calc.py`:\n```py\ndef answer():\n    return 42\n```" in text


async def test_a_long_message_sent_as_a_file_is_the_message(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    body = "REPLY: LONGFILE-MARKER " + "word " * 500
    await bot_rig.users.owner.send(bot_rig.channel, "", attachments=[("message.txt", body.encode(), None)])
    thread = await bot_rig.wait_thread()
    assert thread.name == "message.txt"
    answer = await bot_rig.wait_bot_message(thread, lambda m: "LONGFILE-MARKER" in m.content)
    assert answer.content.startswith("⬥ LONGFILE-MARKER word word")


async def test_large_text_is_saved_and_referenced(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(max_inline_text=1024) as rig:
        data = ("line of log output\n" * 200).encode()
        msg = await rig.user_says("owner", "BIG-MARKER look", attachments=[("run.log", data, None)])
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        saved = rig.settings.attachments_dir / str(msg.id) / "run.log"
        assert saved.read_bytes() == data
        text = latest_user_text([user_message(scripted_model, "BIG-MARKER")])
        assert str(saved) in text and "line of log output" not in text


async def test_unusable_files_get_a_clear_reply_and_the_rest_goes_through(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(max_attachment=4096) as rig:
        files = [
            ("tool.zip", b"PK\x03\x04" + b"\x00" * 100, None),
            ("huge.txt", b"x" * 5000, None),
            ("notes.md", b"# Notes\nkeep me\n", None),
        ]
        await rig.user_says("owner", "MIX-MARKER check", attachments=files)
        thread = await rig.wait_thread()
        notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⚠️ Left out"))
        assert "`tool.zip` is not supported" in notice.content
        assert "`huge.txt` is too large (5 KB; the limit is 4 KB)" in notice.content
        await rig.wait_bot_message(thread, is_footer)
        text = latest_user_text([user_message(scripted_model, "MIX-MARKER")])
        assert "keep me" in text and "tool.zip" not in text and "xxxx" not in text


async def test_a_message_with_only_unusable_files_gets_a_reply_and_no_thread(bot_rig: BotRig) -> None:
    msg = await bot_rig.users.owner.send(bot_rig.channel, "", attachments=[("app.exe", b"MZ\x90\x00", None)])
    reply = await bot_rig.wait_bot_message(bot_rig.channel)
    assert reply.reference is not None and reply.reference["message_id"] == str(msg.id)
    assert reply.content == "⚠️ Left out: `app.exe` is not supported (only images, PDFs and text files are)"
    assert bot_rig.twin.threads(bot_rig.channel) == []
