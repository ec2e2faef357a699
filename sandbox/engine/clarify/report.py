"""The readable side of a Clarify job: an HTML report of analysis.json (bias metrics per facet
and group, feature importance), written next to it as Clarify writes report.html."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

_SECTIONS = (("pre_training_bias_metrics", "Pre-training bias"),
             ("post_training_bias_metrics", "Post-training bias"))  # fmt: skip


def _value(metric: dict[str, Any]) -> str:
    if metric.get("error"):
        return f"— ({html.escape(str(metric['error']))})"
    value = metric.get("value")
    return html.escape(f"{value:.4f}" if isinstance(value, float) else str(value))


def render(result: dict[str, Any], title: str, method_note: str | None = None) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             "</title></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<p>Computed by the sagecoach sandbox's Clarify emulation.</p>"]  # fmt: skip
    for key, heading in _SECTIONS:
        section = result.get(key)
        if not section:
            continue
        parts.append(
            f"<h2>{heading}</h2><p>Label <b>{html.escape(str(section['label']))}</b>, positive "
            f"outcome {html.escape(str(section['label_value_or_threshold']))}</p>"
        )
        for facet, groups in section["facets"].items():
            for group in groups:
                parts.append(
                    f"<h3>Facet {html.escape(facet)} = {html.escape(group['value_or_threshold'])}"
                    "</h3><table border='1'><tr><th>Metric</th><th>Description</th><th>Value"
                    "</th></tr>"
                )
                for metric in group["metrics"]:
                    parts.append(
                        f"<tr><td>{metric['name']}</td><td>{html.escape(metric['description'])}"
                        f"</td><td>{_value(metric)}</td></tr>"
                    )
                parts.append("</table>")
    shap = ((result.get("explanations") or {}).get("kernel_shap") or {}).get("label0")
    if shap:
        ranked = sorted(shap["global_shap_values"].items(), key=lambda kv: -abs(kv[1]))
        parts.append("<h2>Feature importance (SHAP)</h2>")
        if method_note:
            parts.append(f"<p>Method: {html.escape(method_note)}; expected value "
                         f"{shap['expected_value']:.4f}</p>")  # fmt: skip
        parts.append("<table border='1'><tr><th>Feature</th><th>Global SHAP value</th></tr>")
        parts += [f"<tr><td>{html.escape(n)}</td><td>{v:.4f}</td></tr>" for n, v in ranked]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    path: Path, result: dict[str, Any], settings: dict[str, Any], method_note: str | None
) -> None:
    title = str(settings.get("title") or "SageMaker Clarify report")
    path.write_text(render(result, title, method_note))
