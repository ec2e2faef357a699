"""A line plot of series data (training metrics, endpoint latency), drawn with textual-plotext."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot


class SeriesPlot(PlotextPlot):
    """Plots {"name": [[x, y], ...], ...}; points that are not numeric pairs are skipped."""

    def __init__(self, series: dict[str, Any], *, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series = clean_series(series)
        self.title = title

    def on_mount(self) -> None:
        plt = self.plt
        plt.clear_data()
        for name, points in self.series.items():
            plt.plot([p[0] for p in points], [p[1] for p in points], label=name, marker="braille")
        if self.title:
            plt.title(self.title)


def clean_series(series: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for name, points in series.items():
        good: list[tuple[float, float]] = []
        for point in points if isinstance(points, list) else []:
            if (
                isinstance(point, list | tuple)
                and len(point) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            ):
                good.append((float(point[0]), float(point[1])))
        if good:
            out[str(name)] = good
    return out
