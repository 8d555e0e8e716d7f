"""Data Docs for stewards: one self-contained HTML page per suite, and an index.

GX's own Data Docs load CSS and JavaScript from CDNs, which an air-gapped network cannot reach,
so these pages are rendered here: inline CSS, no scripts, no fonts, no images, nothing loaded
from anywhere. `remote_references` finds anything a page would fetch (the tests require none).
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from transforms.quality.validate import ValidationOutcome
from transforms.storage import StoragePath, make_dirs

_REMOTE = re.compile(
    r"""(?:(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #1d232a; background: #fafbfc; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
p.sub { color: #57606a; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .6rem; font-size: 12px;
         font-weight: 600; white-space: nowrap; }
.pass { background: #dafbe1; color: #116329; } .fail { background: #ffebe9; color: #a40e26; }
.warn { background: #fff8c5; color: #7d4e00; } .muted { color: #57606a; }
tr.failed td { background: #fff5f5; } tr.warned td { background: #fffdf0; }
ul.keys { margin: 0; padding-left: 1rem; } a { color: #0969da; }
"""


def remote_references(html: str) -> list[str]:
    """Every network load the page would attempt: remote src/href, CSS url() and @import."""
    return sorted({m.group(0) for m in _REMOTE.finditer(html)})


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


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _status(outcome: ValidationOutcome) -> str:
    if outcome.blocking_failures:
        return '<span class="badge fail">blocked</span>'
    if outcome.warnings:
        return '<span class="badge warn">passed with warnings</span>'
    return '<span class="badge pass">passed</span>'


def _index_page(pages: list[tuple[ValidationOutcome, str]]) -> str:
    rows = "\n".join(
        "<tr>"
        f'<td><a href="{escape(name)}">{escape(outcome.suite)}</a></td>'
        f"<td>{_status(outcome)}</td>"
        f'<td class="num">{outcome.rows:,}</td>'
        f'<td class="num">{len(outcome.results)}</td>'
        f'<td class="num">{len(outcome.blocking_failures)}</td>'
        f'<td class="num">{len(outcome.warnings)}</td>'
        "</tr>"
        for outcome, name in pages
    )
    blocked = sum(1 for outcome, _ in pages if outcome.blocking_failures)
    body = (
        "<h1>Data quality: validation results</h1>\n"
        f'<p class="sub">{len(pages)} suite(s) validated; {blocked} blocked by a failing '
        "blocking expectation. Blocking expectations (schema, keys, lineage) stop a table from "
        "being published; warnings (values, formats) name rows a steward should look at.</p>\n"
        "<table>\n<thead><tr><th>Suite</th><th>Status</th><th>Rows</th><th>Expectations</th>"
        "<th>Blocking failures</th><th>Warnings</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody>\n</table>"
    )
    return _document("Data quality: validation results", body)


def _share(value: Any) -> str:
    return "" if value is None else f"{value:.2%}"


def _count(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def _result_row(result: dict[str, Any]) -> str:
    if result["success"]:
        css, badge = "", '<span class="badge pass">pass</span>'
    elif result["severity"] == "blocking":
        css, badge = ' class="failed"', '<span class="badge fail">fail</span>'
    else:
        css, badge = ' class="warned"', '<span class="badge warn">warn</span>'
    keys = result.get("sample_keys") or []
    values = result.get("sample_values") or []
    samples = (
        '<ul class="keys">'
        + "".join(
            f"<li><code>{escape(str(k))}</code>"
            + (f' <span class="muted">{escape(str(v))}</span>' if v is not None else "")
            + "</li>"
            for k, v in zip(keys, [*values, *[None] * (len(keys) - len(values))], strict=True)
        )
        + "</ul>"
        if keys
        else ""
    )
    detail = result.get("detail")
    described = escape(result.get("description") or "")
    if detail:
        described += f'<br><span class="muted">{escape(str(detail))}</span>'
    return (
        f"<tr{css}>"
        f"<td>{badge}</td>"
        f"<td>{escape(str(result.get('severity')))}</td>"
        f"<td>{escape(str(result.get('family')))}</td>"
        f"<td><code>{escape(str(result['expectation_type']))}</code></td>"
        f"<td><code>{escape(result.get('column') or '(table)')}</code></td>"
        f"<td>{described}</td>"
        f'<td class="num">{_count(result.get("unexpected_count"))}</td>'
        f'<td class="num">{_share(result.get("unexpected_share"))}</td>'
        f"<td>{samples}</td>"
        "</tr>"
    )


def _suite_page(outcome: ValidationOutcome) -> str:
    rows = "\n".join(_result_row(r) for r in outcome.results)
    evaluated = len(outcome.results)
    passed = sum(1 for r in outcome.results if r["success"])
    body = (
        '<p><a href="index.html">&larr; all suites</a></p>\n'
        f"<h1>{escape(outcome.suite)} {_status(outcome)}</h1>\n"
        f'<p class="sub">{outcome.rows:,} rows; {passed} of {evaluated} expectations passed; '
        f"{len(outcome.blocking_failures)} blocking failure(s), {len(outcome.warnings)} "
        "warning(s). Failing share is of the non-null values checked; sample keys name the "
        "first failing rows.</p>\n"
        "<table>\n<thead><tr><th>Result</th><th>Severity</th><th>Family</th>"
        "<th>Expectation</th><th>Column</th><th>What is expected</th><th>Failing</th>"
        "<th>Failing share</th><th>Sample keys (value)</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody>\n</table>"
    )
    return _document(f"{outcome.suite}: validation result", body)
