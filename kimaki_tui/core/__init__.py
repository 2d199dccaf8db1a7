"""The core: sessions, queue, approvals and the event bus. No front-end imports here."""
