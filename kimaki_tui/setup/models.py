"""The values the setup wizard produces: who the bot is, where it is, what it created."""

from __future__ import annotations

from dataclasses import dataclass

from kimaki_tui.setup.guide import channel_url, identity_warnings


@dataclass(frozen=True, slots=True)
class BotIdentity:
    user_id: str
    username: str
    app_id: str
    message_content: bool | None = None  # None when the application flags could not be read
    public: bool | None = None  # the application's "Public Bot" switch (None: not read)

    @property
    def warnings(self) -> list[str]:
        return identity_warnings(self.message_content, self.public)


@dataclass(frozen=True, slots=True)
class GuildInfo:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CreatedChannel:
    directory: str
    guild_id: str
    channel_id: str
    name: str

    @property
    def url(self) -> str:
        return channel_url(self.guild_id, self.channel_id)


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What the wizard did. The token itself is in the SecretStore, never here."""

    completed: bool
    app_id: str | None = None
    guilds: tuple[GuildInfo, ...] = ()
    channels: tuple[CreatedChannel, ...] = ()
    gemini_key_saved: bool = False
