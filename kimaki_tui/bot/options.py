"""The Discord bot's settings: one frozen value the composition root builds and the bot reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.presentation.render import DEFAULT_VERBOSITY, Verbosity
from kimaki_tui.voice.pipeline import MAX_SECONDS
from kimaki_tui.voice.transcribe import DEFAULT_MODEL


@dataclass(frozen=True, slots=True)
class BotOptions:
    """`data_dir/"attachments"` holds saved attachments; `guild_ready_timeout` is discord.py's wait
    for the last GUILD_CREATE before on_ready (small in tests). Voice messages: `gemini_model`
    transcribes them within `transcription_timeout` seconds, up to `max_voice_seconds` long;
    `allow_secrets_file` is the run's --secrets-file choice (where a Gemini key set in Discord goes)."""

    data_dir: Path
    projects_dir: Path
    app_id: str | None = None
    allow_all_users: bool = False
    verbosity: Verbosity = DEFAULT_VERBOSITY
    max_inline_text: int = 64 * 1024
    max_attachment: int = 25 * 1024 * 1024
    typing_interval: float = 7.0
    guild_ready_timeout: float = 2.0
    members_intent: bool = False
    gemini_model: str = DEFAULT_MODEL
    transcription_timeout: float = 90.0
    max_voice_seconds: float = MAX_SECONDS
    allow_secrets_file: bool = False

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"
