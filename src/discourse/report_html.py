"""HTML building blocks of the report, shared by its sections (``discourse.report``,
``discourse.report_network``): escaped tables, safe links, embedded PNG charts, catalogue look-ups.

Everything from the data is escaped; a URL becomes a link only when it is ``http(s)://`` with a host.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any
from urllib.parse import urlsplit


class Markup(str):
    """HTML built here from escaped parts: ``table`` puts it in a cell as it is."""


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
    label = html.escape(text if text is not None else candidate)
    return Markup(f"<a href=\"{html.escape(candidate, quote=True)}\" rel=\"noopener noreferrer\" "
                  f"target=\"_blank\">{label}</a>")


def png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def table(rows: list[tuple], headers: list[str]) -> str:
    if not rows:
        return "<p class='muted'>Nothing to show.</p>"
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for r in rows:
        cells = []
        for v in r:
            if isinstance(v, Markup):
                cells.append(f"<td>{v}</td>")
            elif isinstance(v, int | float) and not isinstance(v, bool):
                txt = f"{v:,.3f}" if isinstance(v, float) else f"{v:,}"
                cells.append(f"<td class='num'>{txt}</td>")
            elif isinstance(v, list):
                cells.append("<td>" + "<br>".join(html.escape(str(x)) for x in v) + "</td>")
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table>"


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
