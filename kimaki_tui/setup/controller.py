"""The setup wizard's steps and rules, with every effect injected: both front ends (Textual and
questionary) drive one `SetupController` and only render what it says.

create app → intents → token (checked live, saved in the SecretStore) → install link → wait for a
server → projects and their channels → optional Gemini key → done. When kimaki's database is in
the data dir, the front ends first offer to import it (`kimaki_offer`); with its bot token in
place the wizard goes straight to waiting for a server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import StrEnum
from typing import Protocol

from kimaki_tui.discord_rest import DiscordApiError, DiscordRest
from kimaki_tui.errors import KimakiError
from kimaki_tui.logs import register_secret
from kimaki_tui.secrets import (
    BOT_TOKEN,
    GEMINI_API_KEY,
    SecretStore,
    SecretsUnavailable,
    Source,
    app_id_from_token,
)
from kimaki_tui.setup import guide
from kimaki_tui.setup.channels import LinkChannel, create_channels_over_rest
from kimaki_tui.setup.models import BotIdentity, CreatedChannel, GuildInfo, SetupResult
from kimaki_tui.setup.projects import check_directory

log = logging.getLogger(__name__)

KnownProjects = Callable[[], Awaitable[Sequence[str]]]
CreateChannels = Callable[[str, Sequence[str]], Awaitable[Sequence[CreatedChannel]]]
_PASTE_MARKERS = ("\x1b[200~", "\x1b[201~")  # bracketed paste, when a terminal leaks it


class Step(StrEnum):
    CREATE_APP = "create_app"
    INTENTS = "intents"
    TOKEN = "token"
    INSTALL = "install"
    WAIT_GUILD = "wait_guild"
    PROJECTS = "projects"
    GEMINI = "gemini"
    DONE = "done"


STEPS = tuple(Step)
TITLES = {
    Step.CREATE_APP: "Create a Discord application",
    Step.INTENTS: "Enable the Message Content intent",
    Step.TOKEN: "Paste the bot token",
    Step.INSTALL: "Add the bot to your server",
    Step.WAIT_GUILD: "Waiting for the bot to join",
    Step.PROJECTS: "Pick projects",
    Step.GEMINI: "Voice messages (optional)",
    Step.DONE: "Done",
}


class KimakiImportOffer(Protocol):
    """Importing kimaki's database (kimaki_tui.migrate_kimaki.KimakiOffer fits)."""

    def describe(self) -> str: ...
    async def run(self) -> str: ...


class SetupError(KimakiError):
    """Something the user can fix; the message is shown as is (it never contains a secret)."""


class TokenNotStored(SetupError):
    """Discord accepted the token but there is no OS keyring: `store_token_in_file()` keeps it in
    the secrets file (the front ends offer that in place), or the user sets KIMAKI_BOT_TOKEN."""


def needs_setup(secrets: SecretStore) -> bool:
    """True when no bot token is available (env, keyring or opt-in file)."""
    return secrets.get_bot_token() is None


def clean_token(raw: str) -> str:
    token = raw
    for marker in _PASTE_MARKERS:
        token = token.replace(marker, "")
    token = token.strip().strip('"').strip("'")
    return token.removeprefix("Bot ").strip()


class SetupController:
    def __init__(
        self,
        secrets: SecretStore,
        *,
        api: DiscordRest | None = None,
        api_url: str | None = None,
        known_projects: KnownProjects | None = None,
        create_channels: CreateChannels | None = None,
        link: LinkChannel | None = None,
        linked_directories: Callable[[], Iterable[str]] | None = None,
        approve_guild: Callable[[str], object] | None = None,
        start: Step = Step.CREATE_APP,
        kimaki: KimakiImportOffer | None = None,
    ) -> None:
        self.secrets = secrets
        # Tokenless: each call speaks with the checked token (`with_token`), so a wrong paste
        # never sticks.
        self.api = api or DiscordRest(base_url=api_url, timeout=10.0)
        self._known_projects = known_projects
        self._create_channels = create_channels
        self._link = link
        self._linked_directories = linked_directories
        # The server picked for project channels is the operator's choice: kimaki serves it.
        self._approve_guild = approve_guild
        self.first_step = start
        self.step = start
        self.identity: BotIdentity | None = None
        self.guilds: list[GuildInfo] = []
        self.channels: list[CreatedChannel] = []
        self.gemini_saved = False
        self.token_saved_in: Source | None = None  # "keyring" or "file" once the token step is done
        self._token: str | None = None
        self._kimaki = kimaki if start is Step.CREATE_APP else None

    # -- navigation -----------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return TITLES[self.step]

    @property
    def position(self) -> tuple[int, int]:
        """(1-based number of the current step, number of steps) from where this run started."""
        steps = STEPS[STEPS.index(self.first_step) :]
        return steps.index(self.step) + 1, len(steps)

    def can_advance(self) -> bool:
        if self.step is Step.TOKEN:
            return self.identity is not None and self.secrets.get_bot_token() is not None
        if self.step is Step.WAIT_GUILD:
            return bool(self.guilds)
        return self.step is not Step.DONE

    def advance(self) -> Step:
        if not self.can_advance():
            raise SetupError(_INCOMPLETE.get(self.step, "This step is not finished."))
        self.step = STEPS[STEPS.index(self.step) + 1]
        return self.step

    def back(self) -> Step:
        index = STEPS.index(self.step)
        if index > STEPS.index(self.first_step):
            self.step = STEPS[index - 1]
        return self.step

    @property
    def starts_after_token(self) -> bool:
        """True for runs (like --add-channels) that must `prepare()` from the saved token first."""
        return STEPS.index(self.first_step) > STEPS.index(Step.TOKEN)

    async def prepare(self) -> None:
        """For a run that starts after the token step: check the saved token and list the servers."""
        if not self.starts_after_token:
            return
        token = self.secrets.get_bot_token()
        if token is None:
            raise SetupError("No bot token is saved yet: run `kimaki setup` first (or set KIMAKI_BOT_TOKEN).")
        await self._check_token(token)
        await self.refresh_guilds()
        if not self.guilds:
            raise SetupError(f"The bot is not in any server yet. Add it with this link:\n{self.install_url}")

    # -- moving from kimaki ---------------------------------------------------------------------

    @property
    def kimaki_offer(self) -> str | None:
        """What kimaki's database holds, when the wizard should offer to import it; else None."""
        return self._kimaki.describe() if self._kimaki is not None and self.step is Step.CREATE_APP else None

    async def import_from_kimaki(self) -> str:
        """Import kimaki's database; with a bot token now saved, skip to waiting for a server.
        Returns the import report, with why the wizard stays put when Discord refuses the token."""
        if self._kimaki is None:
            raise SetupError("No kimaki database was found.")
        try:
            report = await self._kimaki.run()
        except KimakiError as exc:
            raise SetupError(str(exc)) from None
        self._kimaki = None
        token = self.secrets.get_bot_token()
        if token is not None:
            try:
                await self._check_token(token)
            except SetupError as exc:
                return f"{report}\n✗ {exc}"
            self.step = Step.WAIT_GUILD
        return report

    # -- token ----------------------------------------------------------------------------------

    async def submit_token(self, raw: str) -> BotIdentity:
        """Check the token with Discord, then save it; SetupError says what is wrong."""
        token = clean_token(raw)
        if not token:
            raise SetupError("Paste the bot token.")
        register_secret(token)
        if token.count(".") != 2 or app_id_from_token(token) is None:
            raise SetupError(f"This is not a bot token. {guide.TOKEN_HELP}")
        self.token_saved_in = None
        identity = await self._check_token(token)
        try:
            self.token_saved_in = self.secrets.set_bot_token(token)
        except SecretsUnavailable:
            raise TokenNotStored(guide.NO_KEYRING_CHOICE.format(path=self.secrets.file_path)) from None
        log.info("bot token for %s (app %s) saved", identity.username, identity.app_id)
        return identity

    def token_page_text(self) -> str:
        """The token step's words, true to where the token will be stored on this machine."""
        keyring, _ = self.secrets.backend_status()
        path = str(self.secrets.file_path)
        return guide.token_text(keyring=keyring, file_allowed=self.secrets.allow_file, path=path)

    def store_token_in_file(self) -> Source:
        """After `TokenNotStored`: keep the checked token in the secrets file, and remember in
        config.toml that this data dir uses it (later runs read the token from there)."""
        from kimaki_tui.settings.remember import remember

        token = self._require_token()
        self.secrets.allow_plain_file()
        remember(self.secrets.data_dir, "secrets_file", True, "no OS keyring: chosen in the setup wizard")
        self.token_saved_in = self.secrets.set_bot_token(token)
        log.info("bot token saved in %s", self.secrets.file_path)
        return self.token_saved_in

    async def _check_token(self, token: str) -> BotIdentity:
        app_id = app_id_from_token(token)
        try:
            me = await self.api.with_token(token).me()
        except DiscordApiError as exc:
            if exc.status == 401:
                raise SetupError(f"Discord rejected this token (401). {guide.TOKEN_HELP}") from None
            raise SetupError(f"Could not check the token: {exc}") from None
        message_content: bool | None = None
        public: bool | None = None
        try:
            application = await self.api.with_token(token).application()
            message_content = guide.message_content_enabled(int(application.get("flags") or 0))
            public = bool(application["bot_public"]) if "bot_public" in application else None
        except DiscordApiError as exc:
            log.info("cannot read the application: %s", exc)
        self.identity = BotIdentity(
            user_id=str(me.get("id", "")),
            username=str(me.get("username", "")),
            app_id=app_id or str(me.get("id", "")),
            message_content=message_content,
            public=public,
        )
        self._token = token
        return self.identity

    @property
    def install_url(self) -> str:
        if self.identity is None:
            raise SetupError("The install link needs the bot token first.")
        return guide.install_url(self.identity.app_id)

    # -- servers --------------------------------------------------------------------------------

    async def refresh_guilds(self) -> list[GuildInfo]:
        guilds = await self.api.with_token(self._require_token()).guilds()
        self.guilds = [GuildInfo(str(g["id"]), str(g.get("name", g["id"]))) for g in guilds]
        return self.guilds

    async def wait_for_guild(self, *, timeout: float | None = None, interval: float = 2.0) -> list[GuildInfo]:
        """Poll until the bot is in at least one server (TimeoutError after `timeout`)."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    if await self.refresh_guilds():
                        return self.guilds
                except DiscordApiError as exc:
                    if exc.status == 401:
                        raise SetupError("Discord no longer accepts the token; paste it again.") from None
                    log.info("listing the bot's servers failed, retrying: %s", exc)
                await asyncio.sleep(interval)

    # -- projects -------------------------------------------------------------------------------

    async def project_choices(self) -> list[str]:
        """OpenCode's known projects that have no channel yet."""
        if self._known_projects is None:
            return []
        try:
            known = await self._known_projects()
        except KimakiError as exc:  # OpenCode still starting, or gone: folders can still be added
            raise SetupError(
                f"OpenCode's projects cannot be listed yet ({exc}). Add folders by path below, or go "
                "back (Esc) and come to this step again in a moment."
            ) from None
        linked = set(self._linked_directories()) if self._linked_directories else set()
        return [directory for directory in known if directory not in linked]

    def check_directory(self, text: str) -> str:
        return check_directory(text)

    async def create_channels(self, guild_id: str, directories: Sequence[str]) -> list[CreatedChannel]:
        """Create the project channels in that server; SetupError on a refusal."""
        unique = list(dict.fromkeys(directories))
        if not unique:
            return []
        try:
            if self._create_channels is not None:
                created = list(await self._create_channels(guild_id, unique))
            else:
                app_id = self.identity.app_id if self.identity else None
                rest = self.api.with_token(self._require_token())
                created = await create_channels_over_rest(
                    rest, guild_id, unique, app_id=app_id, link=self._link
                )
        except DiscordApiError as exc:
            raise SetupError(f"Could not create the channels: {exc}") from None
        if created and self._approve_guild is not None:
            self._approve_guild(guild_id)
        self.channels.extend(created)
        return created

    # -- gemini and the end ---------------------------------------------------------------------

    def save_gemini_key(self, key: str) -> bool:
        """Store the key (True); an empty answer skips the step (False)."""
        key = clean_token(key)
        if not key:
            return False
        try:
            self.secrets.set_gemini_key(key)
        except SecretsUnavailable as exc:
            raise SetupError(str(exc)) from None
        self.gemini_saved = True
        return True

    def summary(self) -> str:
        """The closing summary, as plain text for both front ends."""
        lines: list[str] = []
        if self.identity is not None:
            lines.append(f"Bot: {self.identity.username} (application id {self.identity.app_id})")
            lines += [f"⚠ {warning}" for warning in self.identity.warnings]
        if self.token_saved_in:
            lines.append(f"Token stored in: {self.token_saved_in}")
        if self.secrets.source_of(BOT_TOKEN) == "env":
            lines.append(
                "KIMAKI_BOT_TOKEN is set in the environment: it is used instead of the stored token."
            )
        if self.guilds:
            lines.append("Servers: " + ", ".join(g.name for g in self.guilds))
        for channel in self.channels:
            lines.append(f"#{channel.name} → {channel.directory}\n   {channel.url}")
        if not self.channels:
            lines.append("No project channels created (add them later: kimaki setup --add-channels).")
        gemini = self.secrets.source_of(GEMINI_API_KEY)
        if self.gemini_saved:
            lines.append("Gemini key: saved")
        else:
            lines.append(
                f"Gemini key: already set ({gemini})" if gemini else "Gemini key: not set (no voice)"
            )
        return "\n".join(lines)

    def result(self, *, completed: bool = True) -> SetupResult:
        return SetupResult(
            completed=completed,
            app_id=self.identity.app_id if self.identity else None,
            guilds=tuple(self.guilds),
            channels=tuple(self.channels),
            gemini_key_saved=self.gemini_saved,
        )

    async def aclose(self) -> None:
        await self.api.aclose()

    def checked_identity(self) -> BotIdentity:
        """The bot the token step checked; SetupError before that."""
        if self.identity is None:
            raise SetupError(_INCOMPLETE[Step.TOKEN])
        return self.identity

    def _require_token(self) -> str:
        if self._token is None:
            raise SetupError("Paste the bot token first.")
        return self._token


_INCOMPLETE = {
    Step.TOKEN: "Paste a bot token that Discord accepts first.",
    Step.WAIT_GUILD: "The bot has not joined a server yet.",
    Step.DONE: "Setup is finished.",
}
