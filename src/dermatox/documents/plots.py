"""Outcome plots as SVG (matplotlib, server-side), so they show on screen and print in the PDFs alike.

Takes plain data (dates, values, session dates and labels already in the reader's language); no app
imports. Figures are built with the object API (no pyplot state), so rendering is safe in threads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
from matplotlib import dates as mdates
from matplotlib.figure import Figure

from dermatox.documents.svg_style import styles_to_attributes

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, selectable, printed by the PDF's own font
        "svg.hashsalt": "dermatox",  # stable ids, so the same data gives the same SVG
        "font.family": "DejaVu Sans",
        "font.size": 8,
        # Titles and labels carry what users typed (a body site, a lot): plain text, never mathtext. A body
        # site of "$\\frac{$" made every page with the plot fail (issue 12 §1.4).
        "text.parse_math": False,
    }
)
LINE, SESSION, BASELINE = "#1f4e5f", "#c0622f", "#8a8a8a"
DATE_FORMATS = {"tr": "%d.%m.%y", "en": "%Y-%m-%d"}


def series_svg(
    *,
    title: str,
    unit: str,
    points: list[tuple[dt.date, Decimal]],
    sessions: list[tuple[dt.date, str]],
    language: str,
    width_in: float = 5.2,
    height_in: float = 2.1,
) -> str:
    """One measure over time: the values, a dotted baseline, and each treatment session as a marked line."""
    fig = Figure(figsize=(width_in, height_in), dpi=96)
    ax = fig.add_subplot()
    days = [d for d, _v in points]
    values = [float(v) for _d, v in points]
    ax.plot(days, values, marker="o", markersize=3.5, linewidth=1.6, color=LINE)
    if values:
        ax.axhline(values[0], color=BASELINE, linewidth=0.8, linestyle=":")
    span = [*days, *(d for d, _p in sessions)]
    low, high = (min(span), max(span)) if span else (dt.date.today(), dt.date.today())
    margin = max(dt.timedelta(days=7), (high - low) * 0.05)
    for day, label in sessions:
        if low - margin <= day <= high + margin:
            ax.axvline(day, color=SESSION, linewidth=1, linestyle="--")
            ax.annotate(
                label,
                (day, 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -9),
                textcoords="offset points",
                fontsize=6.5,
                color=SESSION,
            )
    ax.set_xlim(low - margin, high + margin)
    ax.set_title(title, loc="left", fontsize=8.5, fontweight="bold", color="#1b1b1b")
    if unit:
        ax.set_ylabel(unit, fontsize=7)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=4))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMATS.get(language, DATE_FORMATS["en"])))
    ax.grid(axis="y", color="#e3e3e3", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=7)
    fig.tight_layout(pad=0.4)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    # Inline in HTML: drop the XML prolog and DOCTYPE, scale with the container.
    svg = styles_to_attributes(svg[svg.index("<svg") :])  # no style=""/<style>: the page's CSP forbids them
    svg = _unique_ids(svg, hashlib.sha256(svg.encode()).hexdigest()[:8])
    label = html.escape(title, quote=True)
    head = re.compile(r'<svg([^>]*?) width="[^"]+" height="[^"]+"')
    return head.sub(lambda m: f'<svg{m.group(1)} role="img" aria-label="{label}"', svg, count=1)


_ID = re.compile(r'id="([^"]+)"')


def _unique_ids(svg: str, prefix: str) -> str:
    """matplotlib numbers its ids per figure (line2d_1, ...): several plots on one page would share them
    and point at each other's clip paths. Prefix every id and every reference to it."""
    ids = set(_ID.findall(svg))
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    refs = re.compile(r'(url\(#|xlink:href="#|href="#)([^)"]+)')
    return refs.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(0), svg)
