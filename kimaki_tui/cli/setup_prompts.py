"""The setup wizard's questions on the command line: one questionary exchange per step of
kimaki_tui.setup's SetupController, each asked in its own prompt_toolkit session (`answer`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output
    from questionary import Question

    from kimaki_tui.setup import SetupController, SetupResult

Echo = Callable[[str], None]


async def answer(question: Question) -> Any:
    """Ask one question in its own prompt_toolkit session, leaving the loop's exception handler alone.

    By default prompt_toolkit takes over the loop's handler while a question waits and answers a
    stray error from any other task with "Press ENTER to continue" on the real terminal (on a closed
    stdin: again and again, without end); here such errors go to the log like every other. Its own
    session keeps two wizards in two threads from sharing prompt_toolkit's one global "current app".
    """
    from prompt_toolkit.application import create_app_session

    app = question.application
    with create_app_session(input=app.input, output=app.output):
        return await app.run_async(set_exception_handler=False)


def prompt_io(input: Input | None, output: Output | None) -> dict[str, Any]:
    """questionary passes these through to prompt_toolkit (tests give a pipe and a dummy output)."""
    return {k: v for k, v in (("input", input), ("output", output)) if v is not None}


async def run_prompts(
    setup: SetupController,
    *,
    echo: Echo = print,
    open_url: Callable[[str], bool] | None = None,
    poll_interval: float = 2.0,
    wait_timeout: float = 300.0,
    input: Input | None = None,
    output: Output | None = None,
) -> SetupResult:
    """Ask the wizard's questions until done; Ctrl+C (or EOF) ends it with completed=False."""
    from kimaki_tui.setup import SetupError, Step

    prompter = Prompter(
        setup,
        echo=echo,
        open_url=open_url,
        poll_interval=poll_interval,
        wait_timeout=wait_timeout,
        prompt_io=prompt_io(input, output),
    )
    try:
        if setup.starts_after_token:
            await setup.prepare()
        if setup.kimaki_offer:
            await prompter.offer_kimaki()
        while setup.step is not Step.DONE:
            echo(prompter.heading())
            if not await prompter.ask_step():
                return setup.result(completed=False)
            setup.advance()
    except SetupError as exc:
        echo(f"✗ {exc}")
        return setup.result(completed=False)
    except (KeyboardInterrupt, EOFError):
        echo("Setup cancelled.")
        return setup.result(completed=False)
    echo(prompter.heading())
    echo(setup.summary())
    return setup.result()


class Prompter:
    """One questionary exchange per wizard step; returns False when the user backs out."""

    def __init__(
        self,
        setup: SetupController,
        *,
        echo: Echo,
        open_url: Callable[[str], bool] | None,
        poll_interval: float,
        wait_timeout: float,
        prompt_io: dict[str, Any],
    ) -> None:
        self.setup = setup
        self.echo = echo
        self.open_url = open_url
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.io = prompt_io

    def say(self, text: str) -> None:
        """A step's words, wrapped to the terminal (list items keep their indent)."""
        from kimaki_tui.setup import guide

        self.echo(guide.wrap(text, min(shutil.get_terminal_size().columns, 100) - 1))

    def heading(self) -> str:
        number, total = self.setup.position
        return f"\n── Step {number}/{total} · {self.setup.title} ──"

    async def ask_step(self) -> bool:
        from kimaki_tui.setup import Step, guide

        step = self.setup.step
        if step is Step.CREATE_APP:
            return await self._info(guide.CREATE_APP)
        if step is Step.INTENTS:
            return await self._info(guide.INTENTS)
        handlers = {
            Step.TOKEN: self._token,
            Step.INSTALL: self._install,
            Step.WAIT_GUILD: self._wait,
            Step.PROJECTS: self._projects,
            Step.GEMINI: self._gemini,
        }
        return await handlers[step]()

    async def offer_kimaki(self) -> None:
        """kimaki's database is in the data dir: offer to import it before the first step."""
        import questionary

        from kimaki_tui.setup import SetupError

        self.echo(f"\n── Moving from kimaki ──\n{self.setup.kimaki_offer}")
        question = "Import its bot token, channels, threads, scheduled tasks and preferences now?"
        if not await answer(questionary.confirm(question, default=True, **self.io)):
            self.echo("Not imported (`kimaki import-kimaki` does it later).")
            return
        try:
            self.echo(await self.setup.import_from_kimaki())
        except SetupError as exc:
            self.echo(f"✗ {exc}")

    async def _info(self, text: str) -> bool:
        import questionary

        self.say(text)
        await answer(questionary.press_any_key_to_continue("Press any key when done…", **self.io))
        return True

    async def _token(self) -> bool:
        import questionary

        from kimaki_tui.secrets import mask
        from kimaki_tui.setup import SetupError, TokenNotStored
        from kimaki_tui.setup.controller import clean_token

        self.say(self.setup.token_page_text())
        while True:
            raw = await answer(questionary.password("Bot token:", **self.io))
            try:
                identity = await self.setup.submit_token(raw or "")
            except TokenNotStored as exc:
                self.echo(f"✗ {exc}")
                keep = questionary.confirm(f"Keep it in {self.setup.secrets.file_path}?", **self.io)
                if not await answer(keep):
                    return False
                self.setup.store_token_in_file()
                identity = self.setup.checked_identity()
            except SetupError as exc:
                self.echo(f"✗ {exc}")
                continue
            self.echo(f"✓ Bot {identity.username} · application id {identity.app_id}")
            self.echo(f"  token {mask(clean_token(raw or ''))} saved ({self.setup.token_saved_in})")
            for warning in identity.warnings:
                self.echo(f"⚠ {warning}")
            return True

    async def _install(self) -> bool:
        import questionary

        from kimaki_tui.setup import guide
        from kimaki_tui.setup.browser import can_open_browser, open_in_browser

        url = self.setup.install_url
        self.say(guide.INSTALL)
        self.echo(f"\n  {url}\n")
        opener = self.open_url or (open_in_browser if can_open_browser() else None)
        if opener is not None:
            question = questionary.confirm("Open it in your browser now?", default=True, **self.io)
            if await answer(question):
                opener(url)
        return True

    async def _wait(self) -> bool:
        import questionary

        from kimaki_tui.setup import guide

        self.say(guide.WAIT_GUILD)
        while True:
            try:
                guilds = await self.setup.wait_for_guild(
                    timeout=self.wait_timeout, interval=self.poll_interval
                )
            except TimeoutError:
                again = questionary.confirm("The bot has not joined a server yet. Keep waiting?", **self.io)
                if not await answer(again):
                    return False
                continue
            self.echo("✓ The bot is in: " + ", ".join(g.name for g in guilds))
            return True

    async def _projects(self) -> bool:
        import questionary

        from kimaki_tui.setup import SetupError, guide

        self.say(guide.PROJECTS)
        try:
            choices = await self.setup.project_choices()
        except SetupError as exc:
            self.echo(f"✗ {exc}")
            choices = []
        selected: list[str] = []
        if choices:
            question = questionary.checkbox(
                "Projects to create channels for (space selects, enter confirms):", choices=choices, **self.io
            )
            selected = list(await answer(question) or [])
        else:
            self.echo("OpenCode knows no projects yet; type their directories instead.")
        while True:
            extra = await answer(
                questionary.text(
                    "Another project directory (enter to finish):",
                    validate=self._valid_directory,
                    validate_while_typing=False,  # a half-typed path "does not exist" yet
                    **self.io,
                )
            )
            if not (extra or "").strip():
                break
            selected.append(self.setup.check_directory(extra))
        if not selected:
            return True
        guild_id = await self._pick_guild()
        try:
            created = await self.setup.create_channels(guild_id, selected)
        except SetupError as exc:
            self.echo(f"✗ {exc}")
            return True
        for channel in created:
            self.echo(f"✓ #{channel.name} → {channel.directory}  {channel.url}")
        return True

    def _valid_directory(self, text: str) -> bool | str:
        if not text.strip():
            return True
        try:
            self.setup.check_directory(text)
        except ValueError as exc:
            return str(exc)
        return True

    async def _pick_guild(self) -> str:
        import questionary

        guilds = self.setup.guilds
        if len(guilds) == 1:
            return guilds[0].id
        choices = [questionary.Choice(g.name, value=g.id) for g in guilds]
        picked = await answer(questionary.select("Which server?", choices=choices, **self.io))
        return str(picked)

    async def _gemini(self) -> bool:
        import questionary

        from kimaki_tui.setup import SetupError, guide

        self.say(guide.GEMINI)
        while True:
            key = await answer(questionary.password("Gemini API key (enter to skip):", **self.io))
            try:
                self.setup.save_gemini_key(key or "")
            except SetupError as exc:
                self.echo(f"✗ {exc}")
                continue
            return True
