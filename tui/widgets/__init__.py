"""Widgets of the sagecoach app: status bar, chat log items, sidebar, prompt."""
