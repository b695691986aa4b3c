"""A run's report: a markdown table, a PNG chart and the raw metrics as JSON, side by side."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display: safe in CLI processes and training jobs

import matplotlib.pyplot as plt  # noqa: E402

REPORTS_DIR = "reports"
COLUMNS = (
    ("rmse", "RMSE", "{:.4f}"),
    ("mae", "MAE", "{:.4f}"),
    ("precision_at_k", "P@K", "{:.4f}"),
    ("recall_at_k", "R@K", "{:.4f}"),
    ("ndcg_at_k", "NDCG@K", "{:.4f}"),
    ("coverage", "Coverage", "{:.3f}"),
    ("training_time", "Fit time (s)", "{:.1f}"),
)


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def markdown_table(metrics: Mapping[str, Mapping[str, Any]]) -> str:
    """One row per model, one column per metric (K from the metrics)."""
    header = "| model | " + " | ".join(label for _, label, _ in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [
        f"| {name} | " + " | ".join(_cell(m.get(key), fmt) for key, _, fmt in COLUMNS) + " |"
        for name, m in metrics.items()
    ]
    return "\n".join([header, rule, *rows])


def render_markdown(
    version: str, metrics: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]
) -> str:
    """The report page: context (data, split, definitions), the table and the chart."""
    k = next((m.get("k") for m in metrics.values() if m.get("k")), "K")
    threshold = next((m.get("relevance_threshold") for m in metrics.values()), None)
    lines = [
        f"# Training run {version}",
        "",
        ", ".join(f"{key}: {value}" for key, value in context.items()),
        "",
        markdown_table(metrics),
        "",
        f"K = {k}. RMSE/MAE over every test rating; ranking metrics over test users with a",
        f"relevant test rating (rating >= {threshold}); coverage = distinct recommended items /",
        "catalogue. `baseline` and `popularity` are the references trained on the same split.",
        "",
        f"![metrics]({version}.png)",
        "",
    ]
    return "\n".join(lines)


def plot(metrics: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> Path:
    """Three panels: rating error, ranking quality at K, training time (log scale)."""
    names = list(metrics)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = (
        (axes[0], ("rmse", "mae"), "Rating error (lower is better)"),
        (axes[1], ("precision_at_k", "recall_at_k", "ndcg_at_k", "coverage"), "Ranking at K"),
    )
    for axis, keys, label in panels:
        width = 0.8 / len(keys)
        lowest = math.inf
        for offset, key in enumerate(keys):
            values = [float(metrics[n].get(key) or 0.0) for n in names]
            lowest = min([lowest, *values])
            positions = [i + offset * width for i in range(len(names))]
            bars = axis.bar(positions, values, width, label=key)
            axis.bar_label(bars, fmt="%.3f", fontsize=6, rotation=90, padding=2)
        axis.margins(y=0.15)
        if keys[0] == "rmse" and lowest > 0:  # errors differ in the 2nd decimal: zoom in
            axis.set_ylim(bottom=0.8 * lowest)
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30)
        axis.set_title(label)
        axis.legend(fontsize=8)
    times = [max(float(metrics[n].get("training_time") or 0.0), 1e-3) for n in names]
    axes[2].bar(names, times, color="tab:gray")
    axes[2].set_yscale("log")
    axes[2].set_title("Training time (s, log)")
    axes[2].tick_params(axis="x", rotation=30)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(
    reports_dir: str | Path,
    version: str,
    metrics: Mapping[str, Mapping[str, Any]],
    context: Mapping[str, Any],
) -> dict[str, Path]:
    """Write <version>.md, <version>.png and <version>.json; return their paths."""
    directory = Path(reports_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": directory / f"{version}.md",
        "chart": directory / f"{version}.png",
        "json": directory / f"{version}.json",
    }
    paths["markdown"].write_text(render_markdown(version, metrics, context))
    plot(metrics, paths["chart"], f"Run {version}")
    payload = {"version": version, "context": dict(context), "metrics": metrics}
    paths["json"].write_text(json.dumps(payload, indent=2, default=str))
    return paths
