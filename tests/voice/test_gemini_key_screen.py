"""The control center's "Set Gemini API key…" palette entry: it saves the key where the bot reads it,
shows whether one is set, and explains why it cannot be saved when there is no keyring."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from textual.widgets import Static

from kimaki_tui.root.offline import open_secrets
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.gemini_key import GeminiKeyScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import Settings
from tests.harness import wait_until
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.screens.conftest import notifications
from tests.screens.scene import concrete, offline_model


@pytest.fixture
async def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ControlCenterModel]:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("KIMAKI_SECRETS_FILE", raising=False)
    data_dir = tmp_path / "data"
    model = offline_model(tmp_path, data_dir=data_dir, secrets=open_secrets(Settings(data_dir=data_dir)))
    yield model
    await concrete(model).close()
    concrete(model).store.close()


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


def text_of(app: KimakiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_the_palette_sets_the_key_the_bot_reads(
    model: ControlCenterModel, memory: MemoryKeyring
) -> None:
    app = KimakiApp(model)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p", *"gemini key", "enter")
        await wait_until(lambda: isinstance(app.screen, GeminiKeyScreen), 10.0, message="the key dialog")
        await wait_until(
            lambda: text_of(app, "#current") == "No key is set yet.", 10.0, message="the current key"
        )
        await pilot.press("enter")
        assert "Paste a key first" in text_of(app, "#key-error")
        await pilot.press(*"AIzaPaletteKey0123456789", "enter")
        await wait_until(
            lambda: not isinstance(app.screen, GeminiKeyScreen), 10.0, message="the dialog to close"
        )
        assert SecretStore(model.data_dir).get_gemini_key() == "AIzaPaletteKey0123456789"
        assert "Gemini API key saved in the keyring." in notifications(app)

        await pilot.press("ctrl+p", *"gemini key", "enter")
        await wait_until(lambda: isinstance(app.screen, GeminiKeyScreen), 10.0, message="the key dialog")
        expected = "A key is set (AIza…6789, from the keyring)."
        await wait_until(lambda: text_of(app, "#current") == expected, 10.0, message="the masked key")
        await pilot.press("escape")
        assert not isinstance(app.screen, GeminiKeyScreen)


async def test_without_a_keyring_the_dialog_explains_what_to_do(model: ControlCenterModel) -> None:
    app = KimakiApp(model)
    with use_keyring(fail.Keyring()):  # type: ignore[no-untyped-call]
        async with app.run_test(size=(120, 36)) as pilot:
            await app.push_screen(GeminiKeyScreen(SecretStore(model.data_dir)))
            await pilot.press(*"AIzaNoKeyring0123456789", "enter")
            await wait_until(
                lambda: "No working OS keyring" in text_of(app, "#key-error"), 10.0, message="the error"
            )
            assert isinstance(app.screen, GeminiKeyScreen)
