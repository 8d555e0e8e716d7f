"""Data Docs for stewards: one self-contained HTML page per suite, and an index.

GX's own Data Docs load CSS and JavaScript from CDNs, which an air-gapped network cannot reach,
so these pages are rendered here, from the Jinja2 templates in `templates/` (autoescaped):
inline CSS, no scripts, no fonts, no images, and a Content-Security-Policy `<meta>` with which
the browser itself refuses any network load. `remote_references` (from `transforms.html_pages`)
finds anything a page would fetch, or a missing policy (the tests require none).
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
import markupsafe

from transforms.html_pages import CSP, csp_meta
from transforms.html_pages import remote_references as remote_references  # re-exported
from transforms.quality.validate import ValidationOutcome
from transforms.storage import StoragePath, make_dirs

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
# Pages are Jinja2 templates (`templates/*.html.j2`, package data) with every value escaped.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("transforms.quality", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEMPLATES.filters["thousands"] = lambda value: "" if value is None else f"{value:,}"
_TEMPLATES.filters["share"] = lambda value: "" if value is None else f"{value:.2%}"


def build_data_docs(outcomes: list[ValidationOutcome], out_dir: StoragePath) -> StoragePath:
    """Write `out_dir/index.html` and one page per outcome; returns the index path."""
    make_dirs(out_dir)
    pages: list[tuple[ValidationOutcome, str]] = []
    taken: set[str] = {"index.html"}
    for outcome in outcomes:
        name = _page_name(outcome.suite, taken)
        taken.add(name)
        pages.append((outcome, name))
        (out_dir / name).write_text(_suite_page(outcome), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(_index_page(pages), encoding="utf-8")
    return index


def _page_name(suite: str, taken: set[str]) -> str:
    stem = _SLUG.sub("_", suite).strip("_.") or "suite"
    name, n = f"{stem}.html", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.html"
    return name


def _render(template: str, **context: Any) -> str:
    csp = markupsafe.Markup(csp_meta(CSP))  # built and escaped by csp_meta
    return _TEMPLATES.get_template(template).render(csp_meta=csp, **context)


def _index_page(pages: list[tuple[ValidationOutcome, str]]) -> str:
    blocked = sum(1 for outcome, _ in pages if outcome.blocking_failures)
    return _render("index.html.j2", pages=pages, blocked=blocked)


def _result_row(result: dict[str, Any]) -> dict[str, Any]:
    """What the suite page shows of one expectation result (the template escapes it all)."""
    if result["success"]:
        state = "pass"
    elif result["severity"] == "blocking":
        state = "fail"
    else:
        state = "warn"
    keys = result.get("sample_keys") or []
    values = result.get("sample_values") or []
    padded = [*values, *[None] * (len(keys) - len(values))]
    return {
        "state": state,
        "severity": str(result.get("severity")),
        "family": str(result.get("family")),
        "expectation_type": str(result["expectation_type"]),
        "column": result.get("column") or "(table)",
        "description": result.get("description") or "",
        "detail": str(result["detail"]) if result.get("detail") else "",
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_share": result.get("unexpected_share"),
        "samples": [
            (str(k), None if v is None else str(v)) for k, v in zip(keys, padded, strict=True)
        ],
    }


def _suite_page(outcome: ValidationOutcome) -> str:
    rows = [_result_row(r) for r in outcome.results]
    passed = sum(1 for r in outcome.results if r["success"])
    return _render("suite.html.j2", outcome=outcome, rows=rows, passed=passed)
