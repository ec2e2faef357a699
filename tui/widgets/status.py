"""The status bar at the top: where calls go (SANDBOX or the account), region, profile, model, mode."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label


class StatusBar(Horizontal):
    """One line; SANDBOX is a black-on-yellow badge and `yes` mode a red one."""

    env_account: reactive[str] = reactive("…")
    env_sandbox: reactive[bool | None] = reactive(None)
    env_region: reactive[str] = reactive("")
    env_profile: reactive[str] = reactive("")
    env_model: reactive[str] = reactive("")
    env_mode: reactive[str] = reactive("")  # unknown until the settings load
    busy_text: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Label("sagecoach", id="brand")
        yield Label("…", id="env")
        yield Label("", id="region")
        yield Label("", id="profile")
        yield Label("", id="model")
        yield Label("", id="busy")
        yield Label("", id="mode")

    def on_mount(self) -> None:
        self._refresh_all()

    def _refresh_all(self) -> None:
        if not self.is_mounted:
            return
        env = self.query_one("#env", Label)
        env.set_class(self.env_sandbox is True, "-sandbox")
        env.set_class(self.env_sandbox is False, "-real")
        if self.env_sandbox is True:
            env.update(" SANDBOX · no real AWS ")
        elif self.env_sandbox is False:
            env.update(f" REAL AWS · account {self.env_account} ")
        else:
            env.update(" … ")
        self.query_one("#region", Label).update(self.env_region)
        profile = self.query_one("#profile", Label)
        profile.update(f"profile {self.env_profile}")
        profile.display = bool(self.env_profile)
        self.query_one("#model", Label).update(self.env_model)
        self.query_one("#busy", Label).update(self.busy_text)
        mode = self.query_one("#mode", Label)
        for name in [c for c in mode.classes if c.startswith("-mode-")]:
            mode.remove_class(name)
        mode.add_class(f"-mode-{self.env_mode}")
        mode.update(f" {self.env_mode.upper() or '…'} ")

    def watch_env_account(self) -> None:
        self._refresh_all()

    def watch_env_sandbox(self) -> None:
        self._refresh_all()

    def watch_env_region(self) -> None:
        self._refresh_all()

    def watch_env_profile(self) -> None:
        self._refresh_all()

    def watch_env_model(self) -> None:
        self._refresh_all()

    def watch_env_mode(self) -> None:
        self._refresh_all()

    def watch_busy_text(self) -> None:
        self._refresh_all()
