"""The Discord tools the agent can call (`kimaki_file_upload`, `kimaki_action_buttons`,
`kimaki_send_file`, `kimaki_sleep`, `kimaki_send`), served to OpenCode by kimaki's own MCP server.

Layout: `ports` (what the tools need from kimaki, as Protocols the bot and the control center
implement), `arguments` and `files` (checking what the agent asked for), `calls` (which session
made a call), `toolkit` (the tools themselves), `server` (the MCP server; the only module that
imports the `mcp` library, and only when it starts) and `opencode_config` (how OpenCode is told
about the server). Importing this package imports none of them.
"""
