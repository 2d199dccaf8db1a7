"""An answer with a table reaches the Discord thread as an aligned code block."""

from __future__ import annotations

import pytest

from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode


async def test_a_table_in_an_answer_is_posted_as_a_code_block(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: Totals:\n| city | n |\n|---|--:|\n| Oslo | 7 |\n| Rome | 12 |")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    answer = next(m for m in bot_rig.bot_messages(thread) if "Totals" in m.content)
    assert answer.content == "⬥ Totals:\n```\ncity |  n\n-----+---\nOslo |  7\nRome | 12\n```"
