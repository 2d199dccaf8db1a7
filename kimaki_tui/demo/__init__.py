"""`kimaki demo`: the whole product on one machine with no Discord account and no API key — the
Discord twin, a real `opencode serve` on a scripted model, the bot and the control center."""
