"""OpenCode server access: supervisor, typed HTTP client and event stream."""
