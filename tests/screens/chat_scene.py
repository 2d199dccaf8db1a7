"""A fixed Discord world for the Discord view's snapshots: one project channel and a thread with a
prompt, an answer with a code block, and a permission prompt with its buttons. It implements the
`ChatWorld` protocol over plain values (the demo implements it over the Discord twin)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kimaki_tui.screens.chat_model import ChatChannel, ChatComponent, ChatMessage, SlashCommand

CHANNEL = ChatChannel(100, "sample-project")
THREAD = ChatChannel(200, "Fix the flaky login test", parent_id=100)
ANSWER = (
    "The login test raced the session cookie. I made the fixture wait for it:\n"
    "```python\nawait page.wait_for_cookie(\"session\")\n```\nBoth tests pass now."
)
PROMPT_ROW = (
    ChatComponent("button", "kimaki:perm:once", "Accept", style="success"),
    ChatComponent("button", "kimaki:perm:always", "Accept Always", style="primary"),
    ChatComponent("button", "kimaki:perm:deny", "Deny", style="danger"),
)
MESSAGES = {
    100: [ChatMessage(1, 100, "you", "Fix the flaky login test", notes=(f"↳ thread: {THREAD.name}",))],
    200: [
        ChatMessage(2, 200, "you", "Fix the flaky login test"),
        ChatMessage(3, 200, "Kimaki", "┣ bash `pytest tests/test_login.py -q`", bot=True),
        ChatMessage(4, 200, "Kimaki", ANSWER, bot=True),
        ChatMessage(5, 200, "Kimaki", "-# demo · 8.4s · fake-model · build", bot=True),
        ChatMessage(6, 200, "you", "Now clean the build and rebuild"),
        ChatMessage(
            7,
            200,
            "Kimaki",
            "⚠ **Permission needed** — bash: `rm -rf build && make`",
            bot=True,
            rows=(PROMPT_ROW,),
        ),
    ],
}


class FixedChat:
    """The world above, read-only: acting on it changes nothing (snapshots only look)."""

    user_name = "you"
    intro = "Say something."

    def channels(self) -> list[ChatChannel]:
        return [CHANNEL, THREAD]

    def messages(self, channel_id: int) -> list[ChatMessage]:
        return list(MESSAGES.get(channel_id, []))

    def commands(self) -> list[SlashCommand]:
        return [SlashCommand("abort", "Stop the running answer")]

    async def send(self, text: str, channel_id: int) -> None:
        return None

    async def click(self, message_id: int, custom_id: str) -> str | None:
        return None

    async def select(self, message_id: int, custom_id: str, values: list[str]) -> str | None:
        return None

    async def slash(self, channel_id: int, command: str, options: Mapping[str, str]) -> str | None:
        return None

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        return lambda: None
