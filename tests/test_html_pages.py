"""Pages render air-gapped: every page carries a CSP, and the parser-based scan finds network loads."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from transforms.html_pages import (
    CSP,
    MISSING_CSP,
    SCRIPTED_CSP,
    blocks_network,
    csp_meta,
    remote_references,
    with_csp,
)
from transforms.quality.data_docs import build_data_docs
from transforms.quality.validate import ValidationOutcome


def _page(body: str, head: str = "") -> str:
    """A document with the static policy, `head` after it and `body`."""
    return with_csp(f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>")


def test_a_page_with_the_policy_and_local_references_is_clean() -> None:
    html = _page(
        '<a href="other.html">next</a><a href="https://example.org">a link is no load</a>'
        '<img src="data:image/png;base64,AA"><img src="img/local.png" srcset="a.png 1x, b.png 2x">'
        '<div style="background: url(local.png)"></div>'
        '<script>fetch("https://cdn.example/x.js")</script>',  # bodies are the policy's job
        head="<style>body { background: url('data:image/png;base64,AA') }</style>",
    )
    assert remote_references(html) == []


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ('<script src="https://cdn.example/x.js"></script>', "<script src>: https://cdn"),
        ('<img src="//cdn.example/x.png">', "<img src>: //cdn"),
        ('<img src="\\\\cdn.example\\x.png">', "<img src>: \\\\cdn"),
        ('<img src=" ht&#9;tps://cdn.example/x.png">', "<img src>: ht\ttps://cdn"),
        ('<img srcset="a.png 1x, https://cdn.example/b.png 2x">', "<img srcset>: https://cdn"),
        ('<picture><source srcset="//cdn.example/c.webp"></picture>', "<source srcset>: //cdn"),
        ('<iframe src="https://cdn.example/"></iframe>', "<iframe src>: https://cdn"),
        ('<video poster="https://cdn.example/p.jpg"></video>', "<video poster>: https://cdn"),
        ('<object data="https://cdn.example/o.swf"></object>', "<object data>: https://cdn"),
        ('<form action="https://cdn.example/post"></form>', "<form action>: https://cdn"),
        ('<svg><image href="https://cdn.example/i.svg"/></svg>', "<image href>: https://cdn"),
        ('<svg><use xlink:href="//cdn.example/s.svg#a"/></svg>', "<use xlink:href>: //cdn"),
        (
            "<div style=\"background:url( '//cdn.example/i.png' )\"></div>",
            "<div style> url(): //cdn",
        ),
        ("<style>@import 'https://cdn.example/a.css';</style>", "<style> @import: https://cdn"),
        ("<style>@import url(https://cdn.example/a.css);</style>", "<style> url(): https://cdn"),
        (
            '<style>.a { background: image-set("https://cdn.example/z.png" 1x) }</style>',
            "<style> image-set(): https://cdn",
        ),
        (
            "<style>@font-face { src: url(https://cdn.example/f.woff2) }</style>",
            "<style> url(): https://cdn",
        ),
        ('<meta http-equiv="refresh" content="0; url=https://cdn.example/">', "<meta refresh>"),
        ('<iframe srcdoc="<img src=&quot;https://cdn.example/f.png&quot;>"></iframe>', "srcdoc"),
        ('<link rel="stylesheet" href="https://cdn.example/a.css">', "<link href>: https://cdn"),
        ('<base href="https://cdn.example/">', "<base href>: https://cdn"),
    ],
)
def test_every_kind_of_network_load_is_found(markup: str, found: str) -> None:
    references = remote_references(_page(markup))
    assert len(references) == 1 and found in references[0], references


def test_css_comments_and_local_refresh_are_not_loads() -> None:
    html = _page(
        '<meta http-equiv="refresh" content="30">'
        '<meta http-equiv="refresh" content="5; url=index.html">',
        head="<style>/* url(https://cdn.example/x.png) */ a { color: red }</style>",
    )
    assert remote_references(html) == []


def test_a_document_needs_a_strict_policy_in_head_before_what_it_governs() -> None:
    bare = "<!DOCTYPE html><html><head><title>t</title></head><body></body></html>"
    assert remote_references(bare) == [MISSING_CSP]
    assert remote_references(with_csp(bare)) == []
    lax = with_csp(bare, "default-src 'none'; img-src https://cdn.example")
    assert remote_references(lax) == [
        "Content-Security-Policy allows the network: default-src 'none'; img-src https://cdn.example"
    ]
    late = bare.replace("<title>", f'<script src="app.js"></script>{csp_meta()}<title>')
    assert remote_references(late) == [
        "Content-Security-Policy <meta> after elements it should govern"
    ]
    outside = bare.replace("<body>", f"<body>{csp_meta()}")
    assert remote_references(outside) == ["Content-Security-Policy <meta> outside <head>"]
    # A fragment is not a page: only its loads are reported.
    assert remote_references('<img src="a.png">') == []


@pytest.mark.parametrize(
    ("policy", "offline"),
    [
        (CSP, True),
        (SCRIPTED_CSP, True),
        ("default-src 'none';", True),
        ("default-src 'none'; script-src 'sha256-abc='; style-src 'nonce-x'", True),
        ("default-src 'self'", False),
        ("img-src data:", False),
        ("default-src 'none'; img-src *", False),
        ("default-src 'none'; connect-src https:", False),
        ("default-src 'none'; script-src 'strict-dynamic'", False),
        ("default-src 'none'; font-src fonts.gstatic.com", False),
    ],
)
def test_policy_blocks_the_network(policy: str, offline: bool) -> None:
    assert blocks_network(policy) is offline


def test_with_csp_goes_right_after_head() -> None:
    html = with_csp('<html><head data-x="1"><meta charset="utf-8"></head></html>', SCRIPTED_CSP)
    assert html.startswith(
        '<html><head data-x="1">\n<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval';"
    )
    with pytest.raises(ValueError, match="no <head>"):
        with_csp("<p>fragment</p>")


def test_data_docs_pages_carry_the_policy_and_escape_values(tmp_path: Path) -> None:
    hostile = '<script src="https://cdn.example/x.js"></script>'
    result = {
        "success": False,
        "severity": "warn",
        "family": "values",
        "expectation_type": "expect_column_values_to_be_in_set",
        "column": "classification",
        "description": hostile,
        "detail": None,
        "unexpected_count": 1234,
        "unexpected_share": 0.5,
        "sample_keys": ["k:1", "k:2"],
        "sample_values": [hostile],
    }
    outcome = ValidationOutcome(suite="silver.x", success=True, warnings=[result], results=[result])
    index = build_data_docs([outcome], tmp_path)
    for page in (index, tmp_path / "silver.x.html"):
        html = page.read_text(encoding="utf-8")
        assert csp_meta(CSP) in html
        assert remote_references(html) == []
        assert "<script" not in html
    page = (tmp_path / "silver.x.html").read_text(encoding="utf-8")
    assert "&lt;script src=&#34;https://cdn.example/x.js&#34;&gt;" in page
    assert "1,234" in page and "50.00%" in page and "<code>k:2</code>" in page


def test_templates_are_package_data() -> None:
    templates = files("transforms.quality") / "templates"
    names = {t.name for t in templates.iterdir()}
    assert {"base.html.j2", "index.html.j2", "suite.html.j2", "macros.html.j2"} <= names
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"transforms.quality" = ["templates/*.html.j2"]' in pyproject
