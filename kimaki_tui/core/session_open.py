"""Creating a thread's OpenCode session: with the thread's setup (permission rules, a parent
session), guarded when asked (the injection guard's patterns are written before the session's
first tool can run), and mapped to the thread in the store before anything uses it.
"""

from __future__ import annotations

from kimaki_tui.core.session_deps import CoreDeps
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.injection_guard import GuardFiles
from kimaki_tui.store.records import ThreadOrigin
from kimaki_tui.store.retry import until_stored


async def open_session(
    deps: CoreDeps,
    setup: SessionSetup,
    *,
    thread_id: str,
    channel_id: str,
    directory: str,
    origin: ThreadOrigin,
) -> str:
    """A new session for the thread, mapped in the store; returns its id."""
    info = await deps.client.create_session(
        directory, permission=setup.rules(), parent_id=setup.parent_session_id
    )
    if setup.injection_guard:
        _guard(deps.injection_guard, info.id, setup.injection_guard)
    # Mapped before the runtime uses the session; a locked database delays this (the session
    # exists in OpenCode now: dropping the mapping would leave it orphaned).
    store = deps.store
    await until_stored(
        lambda: store.map_thread(thread_id, info.id, channel_id, directory, origin),
        f"the session of thread {thread_id}",
    )
    return info.id


def _guard(guard: GuardFiles | None, session_id: str, patterns: tuple[str, ...]) -> None:
    """Hand the guard plugin its patterns before the session's first tool can run; a session
    asked to be guarded never runs without it."""
    if guard is None:
        raise KimakiError(
            "This kimaki cannot guard tool output (--injection-guard): its OpenCode server was "
            "started without the guard plugin.",
            "Start the session without --injection-guard, or restart kimaki.",
        )
    try:
        guard.write(session_id, patterns)
    except OSError as exc:
        raise KimakiError(
            f"Could not save the session's --injection-guard patterns: {exc.strerror or exc}.",
            f"Check that {guard.directory} is writable.",
        ) from None
