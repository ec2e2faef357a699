"""The LLM agent: session runtime, middleware, approval policy, audit log, conversations, model
choice, offline planner. May import tools, sandbox and prompts; never tui or Textual.
"""
