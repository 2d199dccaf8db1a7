"""The first-run setup wizard screen (its logic lives in kimaki_tui.setup)."""

from kimaki_tui.screens.wizard.screen import WizardScreen

__all__ = ["WizardScreen"]
