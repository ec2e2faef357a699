"""Slash commands: their names, help, and completion. The app runs them (SagecoachApp.run_slash)."""

from __future__ import annotations

from dataclasses import dataclass

# agent.settings.MODES, spelled out so `--help` and the app's start need not import
# pydantic-settings (tests/test_tui_units.py checks they agree).
MODES = ("ask", "read-only", "dry-run", "auto", "yes")


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str
    help: str


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("help", "/help", "keys, slash commands and modes"),
    SlashCommand("stages", "/stages", "focus the stage list in the sidebar"),
    SlashCommand("tools", "/tools [stage]", "list the tools (of one stage)"),
    SlashCommand(
        "mode", "/mode [ask|read-only|dry-run|auto|yes]", "show or change the approval mode"
    ),
    SlashCommand("model", "/model [spec]", "show the model, or restart the session with another"),
    SlashCommand("region", "/region [name]", "show the region, or restart the session in another"),
    SlashCommand("resources", "/resources", "what this session created, with $/hour"),
    SlashCommand("cleanup", "/cleanup", "ask the agent to delete what this session created"),
    SlashCommand("log", "/log", "the audit log (filter, verify)"),
    SlashCommand("new", "/new", "start a new conversation"),
    SlashCommand("resume", "/resume [id]", "list conversations, or resume one"),
    SlashCommand("export", "/export [file.md]", "save the conversation as Markdown"),
    SlashCommand("tool", "/tool NAME key=value …", "call one tool directly (sent to the agent)"),
)
NAMES = tuple(c.name for c in COMMANDS)


def parse(text: str) -> tuple[str, str] | None:
    """('mode', 'auto') for '/mode auto'; None when the text is not a slash command."""
    text = text.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    name, _, rest = text[1:].partition(" ")
    return name.lower(), rest.strip()


def complete(text: str) -> list[SlashCommand]:
    """Commands whose name starts with what was typed after '/' (only before any space)."""
    if not text.startswith("/") or " " in text or "\n" in text:
        return []
    prefix = text[1:].lower()
    found = [c for c in COMMANDS if c.name.startswith(prefix)]
    return sorted(found, key=lambda c: c.name != prefix)  # an exact name first
