"""The sidebar: the nine stages with what this conversation did in each, then the resources."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tools.core.results import format_rate, format_usd
from tui.stage_info import StageInfo

STATE_ICON = {"": "·", "touched": "○", "running": "◐", "done": "●", "failed": "✘"}
STATE_STYLE = {"": "dim", "touched": "", "running": "bold", "done": "green", "failed": "bold red"}


class StageList(OptionList):
    """One line per stage: number, state icon, title."""


class Sidebar(Vertical):
    """Stages (select one for its services and next steps) and the session's resources."""

    class StepChosen(Message):
        """A person picked a suggested next step; the app puts it in the prompt."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.infos: list[StageInfo] = []
        self.states: dict[str, str] = {}
        self.resources: list[dict[str, Any]] = []
        self.spent_usd = 0.0

    def compose(self) -> ComposeResult:
        yield Label("Pipeline stages", classes="title")
        yield StageList(id="stage-list")
        with VerticalScroll(id="stage-detail-scroll"):
            yield Static("Select a stage for its services and next steps.", id="stage-detail")
        yield Label("Resources", classes="title")
        with VerticalScroll(id="resources-scroll"):
            yield Static("none yet", id="resources")

    def on_mount(self) -> None:
        # The catalog loads after the first frame, so it does not compete with it.
        self.call_after_refresh(self.load_stages)
        self.set_interval(30, self.refresh_resources)

    @work(thread=True, exclusive=True, group="stages")
    def load_stages(self) -> None:
        from tui.stage_info import stage_infos

        infos = stage_infos()
        self.app.call_from_thread(self._show_stages, infos)

    def _show_stages(self, infos: list[StageInfo]) -> None:
        self.infos = infos
        stage_list = self.query_one(StageList)
        stage_list.clear_options()
        stage_list.add_options([Option(self._prompt(i), id=i.id) for i in infos])

    def _prompt(self, info: StageInfo) -> Text:
        state = self.states.get(info.id, "")
        text = Text()
        text.append(f"{info.number} {STATE_ICON[state]} ", style=STATE_STYLE[state])
        text.append(info.title, style=STATE_STYLE[state] if state else "")
        return text

    def set_stage_state(self, stage: str, state: str) -> None:
        """touched < running; running ends in done or failed."""
        self.states[stage] = state
        stage_list = self.query_one(StageList)
        for index, info in enumerate(self.infos):
            if info.id == stage:
                stage_list.replace_option_prompt_at_index(index, self._prompt(info))
                stage_list.highlighted = index  # shows its services and next steps

    def reset(self) -> None:
        self.states.clear()
        self.resources = []
        self.spent_usd = 0.0
        if self.infos:
            self._show_stages(self.infos)
        self.refresh_resources()

    @on(OptionList.OptionHighlighted, "#stage-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        info = next((i for i in self.infos if i.id == event.option.id), None)
        if info is not None:
            self.query_one("#stage-detail", Static).update(stage_detail(info))

    @on(OptionList.OptionSelected, "#stage-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        info = next((i for i in self.infos if i.id == event.option.id), None)
        if info is not None and info.next_steps:
            self.post_message(self.StepChosen(info.next_steps[0]))

    def set_resources(self, resources: list[dict[str, Any]], spent_usd: float) -> None:
        self.resources = list(resources)
        self.spent_usd = spent_usd
        self.refresh_resources()

    def refresh_resources(self) -> None:
        self.query_one("#resources", Static).update(
            resources_view(self.resources, self.spent_usd, self.clock())
        )


def stage_detail(info: StageInfo) -> Group:
    parts: list[Any] = [Text(f"{info.number}. {info.title}", style="bold")]
    if info.purpose:
        parts.append(Text(info.purpose, style="italic"))
    for name, what in info.services:
        line = Text("• ")
        line.append(name, style="bold")
        if what:
            what = what.split(": ")[0].split(". ")[0]
            line.append(f" — {what if len(what) <= 60 else what[:59] + '…'}")
        parts.append(line)
    if info.next_steps:
        parts.append(Text("Try (Enter puts it in the prompt):", style="bold"))
        parts.extend(Text(f"  “{step}”") for step in info.next_steps)
    return Group(*parts)


def running_hours(resource: dict[str, Any], now: float) -> float:
    created = resource.get("created_at")
    if not isinstance(created, str):
        return 0.0
    try:
        start = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
    return max(0.0, (now - start) / 3600)


def _is_live(resource: dict[str, Any]) -> bool:
    return str(resource.get("status") or "active") == "active" and not resource.get("deleted")


def resources_view(resources: list[dict[str, Any]], spent_usd: float, now: float) -> Group | Text:
    """Name, then kind and $/hour, per resource; then running $/hour and spend so far.

    Spend so far is the approved calls' estimates plus what time-billed resources accrued.
    Ended resources (deleted, stopped) stay listed, dimmed, with their final cost counted.
    """
    if not resources and not spent_usd:
        return Text("none yet", style="dim")
    # One resource per entry: its whole name (names are what people search for), then its
    # kind and $/hour dimmed under it; a narrow sidebar never splits a name across columns.
    lines: list[Text] = []
    hourly_total = 0.0
    accrued = 0.0
    for res in resources:
        live = _is_live(res)
        hourly = res.get("hourly_usd")
        kind = str(res.get("kind", "")).replace("sagemaker_", "sm ").replace("_", " ")
        if not live:
            kind += f" ({res.get('status') or 'deleted'})"
        line = Text(str(res.get("name", "?")), style="bold" if live else "dim strike")
        line.append(f"\n  {kind}" + (f" · {format_rate(hourly)}" if hourly else ""), style="dim")
        lines.append(line)
        if isinstance(res.get("cost_so_far_usd"), int | float):
            accrued += float(res["cost_so_far_usd"])
        elif hourly and live:
            accrued += float(hourly) * running_hours(res, now)
        if hourly and live:
            hourly_total += float(hourly)
    total = Text()
    total.append(f"running {format_rate(hourly_total)}", style="bold" if hourly_total else "")
    total.append(f" · est. spend so far {format_usd(spent_usd + accrued)}")
    return Group(*lines, total)
