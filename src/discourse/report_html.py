"""HTML building blocks of the report, shared by its sections (``discourse.report``,
``discourse.report_network``): the jinja2 templates, escaped tables, safe links, interactive charts,
catalogue look-ups.

The HTML comes from the templates in ``discourse/templates`` with autoescape on, so everything from the
data is escaped unless it is ``Markup`` built here; a URL becomes a link only when it is ``http(s)://``
with a host. Charts are plotly figures: their data sits in a ``<script>`` as JSON in which plotly escapes
``<``, ``>`` and ``/``, so no string from the data can end the script. Strings from the data that a
chart shows as text (trace names, category labels, hover text, titles) go through ``label`` first:
plotly.js reads a few HTML tags in them (``<b>``, ``<a href>``), and escaped they show as typed.
"""

from __future__ import annotations

import html
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

__all__ = ["CHART_FONT", "Markup", "chart", "columns", "environment", "has_table", "label", "macros",
           "plotly_js", "safe_link", "section", "style_figure", "table"]

CHART_FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
# Charts draw offline: no "Edit in Chart Studio" link, no logo; the mode bar keeps zoom, pan, reset and
# download-as-PNG.
_CHART_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def safe_link(url: Any, text: str | None = None) -> Markup:
    """A link to ``url`` labelled ``text`` when it is an http(s) URL with a host; otherwise the URL
    itself as escaped text, never a link."""
    raw = "" if url is None else str(url)
    as_text = Markup(html.escape(raw))
    candidate = raw.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return as_text
    # Control characters and whitespace inside a URL are how "java\tscript:" gets past a scheme check.
    if (parts.scheme.lower() not in ("http", "https") or not parts.netloc
            or any(ord(ch) < 33 or ord(ch) == 127 for ch in candidate)):
        return as_text
    return macros().link(candidate, text if text is not None else candidate)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _number(v: Any) -> str:
    return f"{v:,.3f}" if isinstance(v, float) else f"{v:,}"


@cache
def environment() -> jinja2.Environment:
    """The report's templates (``discourse/templates``), autoescaped."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("discourse", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.tests["markup"] = lambda v: hasattr(v, "__html__")
    env.tests["numeric"] = _is_number
    env.tests["listlike"] = lambda v: isinstance(v, list | tuple)
    env.filters["number"] = _number
    return env


def macros() -> Any:
    """The macros of ``_macros.html.j2`` as callables returning ``Markup``."""
    return environment().get_template("_macros.html.j2").module


def table(rows: list[tuple], headers: list[str], empty: str = "Nothing to show.") -> Markup:
    """A table: numbers right-aligned, lists one item a line, ``Markup`` as it is, the rest escaped."""
    return macros().table(rows, headers, empty)


def section(title: str, *blocks: Any, intro: str = "", level: int = 2) -> Markup:
    """A heading, an optional note and the blocks (``Markup`` as it is, text escaped)."""
    return macros().section(title, blocks, intro, level)


def label(value: Any) -> str:
    """A string from the data, safe to show as text in a chart."""
    return html.escape("" if value is None else str(value), quote=False)


def style_figure(fig: Any, title: str, *, x: str = "", y: str = "", height: int = 380,
                 legend: str = "", hover: str | None = "x unified") -> Any:
    """The report's look: a left-aligned title, axis titles, and the legend right of the plot area so it
    never covers the data (plotly widens the right margin to fit it)."""
    fig.update_layout(
        template="plotly_white", height=height, hovermode=hover, title={"text": title, "x": 0.01},
        font={"family": CHART_FONT, "size": 12}, margin={"l": 64, "r": 24, "t": 56, "b": 48},
        legend={"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02,
                "title": {"text": legend}})
    if x:
        fig.update_xaxes(title_text=x)
    if y:
        fig.update_yaxes(title_text=y)
    return fig


def chart(fig: Any, chart_id: str, description: str) -> Markup:
    """A figure as a ``<div>`` and the ``<script>`` that draws it; plotly.js itself is in the page once
    (``plotly_js``)."""
    import plotly.io as pio

    height = fig.layout.height or 380
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=chart_id, config=_CHART_CONFIG,
                      default_width="100%", default_height=f"{height}px", validate=True)
    return macros().chart(Markup(div), description)  # plotly's output: JSON with <, > and / escaped


@cache
def plotly_js() -> Markup:
    """plotly.js, inlined once per page so the report draws offline."""
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


def has_table(con: Any, table: str) -> bool:
    schema, name = table.split(".")
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchone()[0])


def columns(con: Any, table: str) -> set[str]:
    schema, name = table.split(".")
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name]).fetchall()}
