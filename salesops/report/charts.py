"""The report's charts: matplotlib figures rendered to SVG, embedded in the HTML as they are.

SVG keeps the text as text (``svg.fonttype: none``): it stays sharp in the PDF, selectable,
and is drawn by the viewer's CJK font (the report's stylesheet names the same font stack).
Matplotlib lays the text out with a CJK font found on the machine (Noto Sans CJK, WenQuanYi,
Source Han Sans...); a Chinese report without one is refused rather than drawn as boxes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import cache

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from salesops.report import ReportError  # noqa: E402

# Font file names of CJK families, in order of preference.
CJK_FONT_FILES = (
    "NotoSansCJK",
    "SourceHanSans",
    "NotoSansSC",
    "wqy-microhei",
    "wqy-zenhei",
    "DroidSansFallback",
    "NotoSerifCJK",
)
PALETTE = ("#2f6db3", "#e07b39", "#3a9a5b", "#c8423d", "#8064a2", "#8c8c8c", "#d4a017", "#17a2b8")
INK, GRID = "#333333", "#e3e3e3"


@cache
def cjk_font() -> str | None:
    """The family name of a CJK font on this machine (registered with matplotlib), or None."""
    files = font_manager.findSystemFonts()
    for wanted in CJK_FONT_FILES:
        for path in sorted(files, key=lambda p: ("bold" in p.lower(), p)):
            if wanted.lower() in path.lower().replace(" ", ""):
                try:
                    font_manager.fontManager.addfont(path)
                    return font_manager.FontProperties(fname=path).get_name()
                except (OSError, RuntimeError):
                    continue
    return None


def require_cjk_font() -> str:
    found = cjk_font()
    if found is None:
        raise ReportError(
            "the Chinese report needs a CJK font and none is installed: install one (Debian: "
            "`apt-get install fonts-noto-cjk`) or write the report with --lang en"
        )
    return found


def _style() -> dict:
    families = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])
    return {
        "font.family": families,
        "font.size": 9,
        "svg.fonttype": "none",
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": GRID,
        "axes.axisbelow": True,
        "legend.frameon": False,
    }


def _svg(name: str, draw: Callable[[plt.Figure], None], size: tuple[float, float]) -> str:
    with matplotlib.rc_context({**_style(), "svg.hashsalt": name}):
        fig = plt.figure(figsize=size)
        try:
            draw(fig)
            fig.tight_layout()
            out = io.StringIO()
            fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    text = out.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF boilerplate, no content
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined


def _axis_money(ax, short: Callable[[float], str], axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _pos: short(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def trend(
    months: list[str],
    actual: list[float],
    quota: list[float | None],
    forecast: dict | None,
    labels: dict[str, str],
    short: Callable[[float], str],
) -> str:
    """Won revenue by month (line), quota (dashed) and the forecast with its 80% and 95% bands."""

    def draw(fig):
        ax = fig.add_subplot()
        x = list(range(len(months)))
        ax.plot(x, actual, color=PALETTE[0], marker="o", linewidth=2, label=labels["actual"])
        if any(q is not None for q in quota):
            ax.plot(
                x,
                [float("nan") if q is None else q for q in quota],
                color=PALETTE[5],
                linestyle="--",
                label=labels["quota"],
            )
        ticks = list(months)
        if forecast:
            fx = [len(months) - 1 + i for i in range(len(forecast["months"]) + 1)]
            ticks += forecast["months"]
            ax.fill_between(
                fx[1:],
                forecast["lower_95"],
                forecast["upper_95"],
                color=PALETTE[1],
                alpha=0.15,
                label=labels["interval_95"],
            )
            ax.fill_between(
                fx[1:],
                forecast["lower_80"],
                forecast["upper_80"],
                color=PALETTE[1],
                alpha=0.3,
                label=labels["interval_80"],
            )
            ax.plot(
                fx,
                [actual[-1], *forecast["forecast"]],
                color=PALETTE[1],
                marker="o",
                linestyle="-",
                label=labels["forecast"],
            )
        ax.set_xticks(range(len(ticks)), ticks, rotation=45, ha="right")
        _axis_money(ax, short)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", ncol=3, fontsize=8)

    return _svg("trend", draw, (9, 3.6))


def funnel(stages: list[str], counts: list[int], rates: list[str]) -> str:
    """A funnel: one centred bar per stage, its count and the conversion from the stage before."""

    def draw(fig):
        ax = fig.add_subplot()
        top = max(counts) if counts and max(counts) > 0 else 1
        y = list(range(len(stages)))[::-1]
        for i, (yy, count) in enumerate(zip(y, counts, strict=True)):
            width = max(count / top, 0.004)
            ax.barh(yy, width, left=(1 - width) / 2, color=PALETTE[i % len(PALETTE)], height=0.8)
            ax.text(
                0.5,
                yy,
                f"{count:,}" + (f"  ({rates[i]})" if rates[i] else ""),
                ha="center",
                va="center",
                color="black",
                fontsize=9,
            )
        ax.set_yticks(y, stages)
        ax.set_xticks([])
        ax.set_xlim(0, 1)
        ax.grid(False)
        ax.spines["left"].set_visible(False)
        ax.spines["bottom"].set_visible(False)

    return _svg("funnel", draw, (6, 3))


def heatmap(
    name: str,
    rows: list[str],
    columns: list[str],
    values: list[list[float | None]],
    text: Callable[[float], str],
    cmap: str = "Blues",
) -> str:
    """Rows x columns coloured by value, each cell labelled; None is an empty cell."""
    import numpy as np

    def draw(fig):
        ax = fig.add_subplot()
        grid = np.array([[np.nan if v is None else float(v) for v in row] for row in values], dtype=float)
        finite = grid[np.isfinite(grid)]
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", vmin=0, vmax=top)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    ax.text(
                        j,
                        i,
                        text(grid[i, j]),
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if grid[i, j] > 0.6 * top else "black",
                    )
        ax.set_xticks(range(len(columns)), columns)
        ax.set_yticks(range(len(rows)), rows)
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)

    height = max(2.2, 0.38 * len(rows) + 1.0)
    return _svg(name, draw, (7.5, height))


def bars(
    name: str,
    labels: list[str],
    values: list[float],
    short: Callable[[float], str],
    marks: list[float | None] | None = None,
    mark_label: str = "",
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars, largest first (top), each labelled; optional markers (e.g. quota)."""

    def draw(fig):
        ax = fig.add_subplot()
        y = list(range(len(labels)))[::-1]
        ax.barh(y, values, color=color, height=0.7)
        for yy, value in zip(y, values, strict=True):
            ax.text(value, yy, " " + short(value), va="center", fontsize=8)
        if marks and any(m is not None for m in marks):
            ax.scatter(
                [m for m in marks if m is not None],
                [yy for yy, m in zip(y, marks, strict=True) if m is not None],
                marker="|",
                s=300,
                color=PALETTE[3],
                label=mark_label,
                zorder=3,
            )
            ax.legend(loc="lower right", fontsize=8)
        ax.set_yticks(y, labels)
        _axis_money(ax, short, "x")
        ax.set_xlim(0, (max(values) if values and max(values) > 0 else 1) * 1.25)

    return _svg(name, draw, (7.5, max(1.8, 0.34 * len(labels) + 0.9)))
