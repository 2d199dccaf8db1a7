"""Attachments Discord will not hand over, or that cannot be saved (a full disk): the message still
goes through, and the thread says which file was left out and why, instead of silence."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.opencode.parts import FilePart
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig
from tests.bot.test_bot_attachments import tiny_png, user_message

pytestmark = pytest.mark.opencode

_DEV_FULL = os.makedev(1, 7)  # /dev/full: every write fails with "No space left on device"


async def test_a_failed_download_is_left_out_with_a_reply_and_the_text_answered(bot_rig: BotRig) -> None:
    bot_rig.twin.fail_downloads(1, status=404)
    await bot_rig.user_says("owner", "REPLY: look at this", attachments=[("dot.png", tiny_png(), None)])
    thread = await bot_rig.wait_thread()
    note = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("⚠️ Left out"))
    reason = "could not be downloaded from Discord (404 Not Found); send it again"
    assert note.content == f"⚠️ Left out: `dot.png` {reason}"
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ look at this")
    await bot_rig.wait_idle(thread)


async def test_a_download_that_fails_once_is_tried_again(bot_rig: BotRig) -> None:
    bot_rig.twin.fail_downloads(1, status=502)
    await bot_rig.user_says("owner", "REPLY: the picture", attachments=[("dot.png", tiny_png(), None)])
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ the picture")
    await bot_rig.wait_idle(thread)
    session_id = bot_rig.core.conversations.runtime(str(thread.id)).session_id
    assert session_id is not None
    messages = await bot_rig.core_rig.client.messages(session_id, str(bot_rig.project_dir))
    assert [p.filename for m in messages if m.info.is_user for p in m.parts if isinstance(p, FilePart)] == [
        "dot.png"
    ]
    assert not any(m.content.startswith("⚠️") for m in bot_rig.bot_messages(thread))


async def test_a_file_that_cannot_be_saved_on_a_full_disk_is_left_out_with_a_reply(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(max_inline_text=1024) as rig:
        await rig.user_says("owner", "REPLY: first")
        thread = await rig.wait_thread()
        await rig.wait_idle(thread)
        target = rig.settings.attachments_dir / str(thread.id) / "run.log"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:  # where the large file is saved, a file that is always full
            os.mknod(target, stat.S_IFCHR | 0o600, _DEV_FULL)
        except PermissionError:
            pytest.skip("this machine does not allow creating device nodes")
        data = ("line of log output\n" * 200).encode()
        files = [("run.log", data, None)]
        await rig.user_says("owner", "FULL-MARKER REPLY: read the log", thread, attachments=files)
        note = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⚠️ Left out"))
        assert note.content == "⚠️ Left out: `run.log` could not be saved (No space left on device)"
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ read the log")
        await rig.wait_idle(thread)
        assert "line of log output" not in latest_user_text([user_message(scripted_model, "FULL-MARKER")])
