"""The Store's per-channel settings slice: a channel's own value for a setting (mention mode, …)
that overrides the settings tree's default there. Values are stored as text; None means unset."""

from __future__ import annotations

from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import utc_text

# The rows under this channel id hold the defaults of every channel (the global scope of /model).
EVERY_CHANNEL = "*"
GLOBAL_MODEL = "model"  # its setting naming the default model, `provider/model`
# A thinking level (OpenCode model variant) chosen for a thread (its session), a channel or, under
# EVERY_CHANNEL, every channel. It sits beside the model choice of the same scope.
VARIANT = "variant"
MODEL_DEFAULT_VARIANT = "-"  # a scope's explicit "no level": the model's own default wins there


class ChannelSettingsMixin(StoreBase):
    def set_channel_setting(self, channel_id: str, name: str, value: str | None) -> None:
        """Set the channel's own `name`; None removes it (the global default applies again)."""
        with self._write():
            if value is None:
                run_sql(
                    self._database,
                    "DELETE FROM channel_settings WHERE channel_id = ? AND name = ?",
                    (channel_id, name),
                )
                return
            run_sql(
                self._database,
                "INSERT OR REPLACE INTO channel_settings (channel_id, name, value, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (channel_id, name, value, utc_text(utc_now())),
            )

    def get_channel_setting(self, channel_id: str, name: str) -> str | None:
        with self._read():
            row = run_sql(
                self._database,
                "SELECT value FROM channel_settings WHERE channel_id = ? AND name = ?",
                (channel_id, name),
            ).fetchone()
        return None if row is None else str(row[0])

    def variant(self, channel_id: str, thread_id: str | None = None) -> str | None:
        """The thinking level prompts there ask for: the thread's, else the channel's, else the
        global one (None: the model's own default)."""
        for scope in (thread_id, channel_id, EVERY_CHANNEL):
            value = self.get_channel_setting(scope, VARIANT) if scope else None
            if value:
                return None if value == MODEL_DEFAULT_VARIANT else value
        return None
