"""`sagecoach mcp`: sagecoach's tools, approval gate, estimates and audit log for MCP clients.

A front end beside the Textual app and `sagecoach ask`, built on the official `mcp` SDK's
low-level server. It never imports Textual, and nothing here is imported on the `--help` path:
the SDK loads only when the command runs.

- listing.py: ToolSpecs as MCP tools (schemas, annotations, titles, output schema), `--stages`
- approval.py: an approval request as an MCP elicitation, and the answer as a Decision
- results.py: a call's outcome as a CallToolResult (text for the model, structured content)
- progress.py: tool progress (from a worker thread) as MCP progress notifications
- catalog.py: the stage catalog and the session as resources, and a few prompts
- front.py: the per-server state: the tool session, the client, pending approvals
- server.py: the MCP handlers and the low-level Server
- serve.py: stdio and streamable HTTP (127.0.0.1, bearer token)
"""
