"""OpenCode server access: supervisor, typed HTTP client, typed models of what it answers, events."""
