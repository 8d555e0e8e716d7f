"""One self-contained HTML page per explained entity: records, merges in order, scored pairs.

Static markup with inline CSS and the lakehouse's Content-Security-Policy (transforms/html_pages.py),
so it opens on an air-gapped desk and can be attached to a disclosure bundle as it is.
"""

from __future__ import annotations

from html import escape

import polars as pl

from transforms.html_pages import with_csp
from transforms.resolve.explain import Explanation

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #c9d1da; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.agree { color: #0b6b2f; } .disagree { color: #a11d1d; }
"""


def _cell(value: object) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, float):
        return f'<td class="num">{value:.3f}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    text = escape(str(value))
    if " " in text or text.startswith(("+", "-")):
        text = " ".join(
            f'<span class="{"agree" if part.startswith("+") else "disagree"}">{part}</span>'
            if part[:1] in "+-"
            else part
            for part in text.split(" ")
        )
    return f"<td>{text}</td>"


def _table(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "<p>none</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in frame.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def explanation_page(explanation: Explanation, generated_for: str) -> str:
    """The page for one entity; `generated_for` names who asked and why (shown in the footer)."""
    entity = explanation.entity
    title = f"Entity {entity['entity_id']}"
    order = (
        "<p>Accepted whole: every pair inside its candidate component agrees. The order below "
        "is the one average linkage makes on those pairs.</p>"
        if explanation.accepted_whole
        else ""
    ) + _table(explanation.merges)
    facts = pl.DataFrame(
        {
            "field": ["given name", "family name", "date of birth", "records", "classification"],
            "value": [
                str(entity.get("given_name")),
                str(entity.get("family_name")),
                str(entity.get("date_of_birth")),
                str(entity.get("record_count")),
                str(entity.get("classification")),
            ],
        }
    )
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{escape(explanation.summary())}</p>"
        f"{_table(facts)}"
        "<h2>Records</h2>"
        f"{_table(explanation.records)}"
        "<h2>How the clustering merged them, in order</h2>"
        "<p>Evidence: bits (log2 odds) between the two clusters past the threshold; the pair is "
        "the strongest scored pair between them, with its match key (+ agreed, - disagreed).</p>"
        f"{order}"
        "<h2>Every scored pair inside the entity</h2>"
        f"{_table(explanation.pairs)}"
        f"<footer><p>{escape(generated_for)}</p></footer>"
        "</body></html>"
    )
    return with_csp(html)
