"""The bot's one error handler: app commands and component callbacks turn failures into a short,
clear ephemeral reply (OpenCode down, no session here, no permission) and log the unexpected ones.

A few failures get Discord's own wording; every other KimakiError says what `describe` gives the
control center and the command line too: its message, then its hint.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from kimaki_tui.core.api import OpenCodeGivenUp, SandboxGone, UnknownThread
from kimaki_tui.errors import KimakiError, describe
from kimaki_tui.opencode.errors import OpenCodeError, OpenCodeHTTPError, OpenCodeTimeout, OpenCodeUnavailable

log = logging.getLogger(__name__)

UNREACHABLE_TEXT = "OpenCode is not reachable right now (restarting?) — try again in a moment."
NO_SESSION_TEXT = "This thread has no kimaki session."
APOLOGY_TEXT = "Sorry — something went wrong on kimaki's side. It was logged."


def explain(error: BaseException) -> str | None:
    """The text for a failure users can understand; None for a bug (log it, apologise)."""
    if isinstance(error, OpenCodeGivenUp | SandboxGone):
        return f"⚠️ {error}\n{error.hint}"[:1900]
    if isinstance(error, OpenCodeUnavailable | OpenCodeTimeout):
        return UNREACHABLE_TEXT
    if isinstance(error, OpenCodeHTTPError):
        return f"OpenCode refused: {error.message or error.name}"[:1900]
    if isinstance(error, UnknownThread):
        return NO_SESSION_TEXT
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here."
    if isinstance(error, KimakiError):
        message, hint = describe(error)
        prefix = "OpenCode error: " if isinstance(error, OpenCodeError) else ""
        return (prefix + message + (f"\n{hint}" if hint else ""))[:1900]
    return None


def unwrap(error: BaseException) -> BaseException:
    """discord.py wraps what a command raised; the original says what went wrong."""
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        if inner is None:
            break
        error = inner
    return error


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the interaction with what went wrong (ephemeral), whether or not it was answered yet."""
    error = unwrap(error)
    text = explain(error)
    if text is None:
        where = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("interaction %s failed", where, exc_info=error)
        text = APOLOGY_TEXT
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about a failed interaction: %s", exc)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    await report(interaction, error)
