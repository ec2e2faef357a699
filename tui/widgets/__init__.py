"""Widgets of the sagecoach app: status bar, chat log items, sidebar, prompt.
Textual widgets; may import tui helpers, agent events and tools data, never the other way round.
"""
