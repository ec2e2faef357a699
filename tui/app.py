"""The Textual app (placeholder until the app issue lands)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from agent.settings import Settings


class SagecoachApp(App[int]):
    TITLE = "sagecoach"

    def __init__(self, settings: Settings, *, conversation: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.conversation = conversation

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("sagecoach — starting…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._open_environment, thread=True, exclusive=True)

    def _open_environment(self) -> None:
        from agent.environment import new_session_id, open_environment

        env = open_environment(self.settings, session_id=new_session_id())
        self._env = env
        label = "SANDBOX" if env.is_sandbox else env.aws.account_label
        self.call_from_thread(
            self.query_one("#status", Static).update, f"{label} · {env.aws.region} · {env.reason}"
        )

    def on_unmount(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            env.close()
