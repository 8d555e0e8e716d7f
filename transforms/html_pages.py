"""HTML pages that render air-gapped: a Content-Security-Policy, and a check for network loads.

Every page the lakehouse writes (Data Docs, Splink's dashboards) carries a
`<meta http-equiv="Content-Security-Policy">` whose fetch directives allow nothing from the
network, so the *browser* refuses any load a page attempts, whatever the page's scripts do.
`remote_references` is the check the tests and the assets run on the written pages: it parses the
page (`html.parser`) and names every network load its markup would make, and a page whose `<head>`
lacks such a policy.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

# Static pages (no scripts): inline CSS and data: images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Pages with their JavaScript inline (Splink's dashboards). Vega compiles its expressions with the
# Function constructor, hence 'unsafe-eval'; nothing is allowed from the network either way.
SCRIPTED_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data:"
)
MISSING_CSP = "no Content-Security-Policy <meta> in <head> blocking the network"

_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_LOCAL_SCHEMES = {"data", "blob", "about", "javascript", "mailto", "tel"}
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_CSS_IMAGE_SET = re.compile(r"image-set\(([^)]*)\)", re.IGNORECASE)
_CSS_STRING = re.compile(r""""([^"]*)"|'([^']*)'""")
_REFRESH_URL = re.compile(r"""^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?["']?([^"']*)""", re.IGNORECASE)
# Attributes that make the browser fetch (or send to) a URL, by element; "*" is any element.
_URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "*": ("src", "background", "poster"),
    "link": ("href",),
    "base": ("href",),
    "object": ("data", "codebase"),
    "form": ("action",),
    "button": ("formaction",),
    "input": ("formaction",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}
_SRCSET_ATTRIBUTES = ("srcset", "imagesrcset")
# Source expressions a CSP may list without allowing any network origin.
_OFFLINE_SOURCES = {
    "'none'",
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "'wasm-unsafe-eval'",
    "data:",
    "blob:",
}
_FETCH_DIRECTIVES = re.compile(
    r"^(?:default|script|style|img|font|connect|media|object|frame|"
    r"child|worker|manifest|prefetch)-src(?:-elem|-attr)?$"
)


def with_csp(html: str, policy: str = CSP) -> str:
    """`html` with a CSP `<meta>` right after its `<head>` tag, before anything it governs."""
    head = _HEAD.search(html)
    if head is None:
        raise ValueError("page has no <head> to carry its Content-Security-Policy")
    return html[: head.end()] + "\n" + csp_meta(policy) + html[head.end() :]


def csp_meta(policy: str = CSP) -> str:
    """The `<meta http-equiv="Content-Security-Policy">` tag carrying `policy`."""
    content = escape(policy, quote=False).replace('"', "&quot;")  # keeps 'none' legible
    return f'<meta http-equiv="Content-Security-Policy" content="{content}">'


def remote_references(html: str) -> list[str]:
    """Every network load the page's markup would attempt, and a missing or lax policy.

    Checked: `src`, `srcset`, `href` of `<link>` and `<base>`, SVG `href`, `poster`, `data`,
    `action`, `<meta http-equiv="refresh">`, CSS `url()`, `image-set()` and `@import` in
    `<style>` and `style=""`, and `<iframe srcdoc>` content. A document (a doctype or an
    `<html>`/`<head>`/`<body>` tag, not a fragment) must also carry, in its `<head>` and before
    anything it loads, a Content-Security-Policy with `default-src 'none'` and no network source.
    Script *bodies* are not read: the policy is what stops them.
    """
    scan = _Scanner()
    scan.feed(html)
    scan.close()
    found = set(scan.found)
    if scan.is_document and not scan.offline_policy:
        found.update(scan.policy_problems or [MISSING_CSP])
    return sorted(found)


def blocks_network(policy: str) -> bool:
    """Whether a CSP allows no network source: `default-src 'none'`, and every fetch directive
    lists only keywords, hashes, nonces, `data:` or `blob:`."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if not part.split():
            continue
        name, *sources = part.split()
        if name.lower() not in directives:  # the first of a repeated directive counts
            directives[name.lower()] = [s.lower() for s in sources]
    if directives.get("default-src") != ["'none'"]:
        return False
    return all(
        _offline_source(source)
        for name, sources in directives.items()
        if _FETCH_DIRECTIVES.match(name)
        for source in sources
    )


def _offline_source(source: str) -> bool:
    return source in _OFFLINE_SOURCES or source.startswith(
        ("'nonce-", "'sha256-", "'sha384-", "'sha512-")
    )


def _remote(url: str) -> bool:
    """Whether the browser would go to the network for `url` (absolute or protocol-relative)."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip(" \f\v\x00")
    if cleaned[:2].replace("\\", "/") == "//":
        return True
    scheme = _SCHEME.match(cleaned)
    return bool(scheme) and scheme.group(1).lower() not in _LOCAL_SCHEMES


def _css_urls(css: str) -> list[tuple[str, str]]:
    css = _CSS_COMMENT.sub("", css)
    found = [
        ("url()", next(g for g in m.groups() if g is not None)) for m in _CSS_URL.finditer(css)
    ]
    found += [("@import", m.group(1) or m.group(2) or "") for m in _CSS_IMPORT.finditer(css)]
    for image_set in _CSS_IMAGE_SET.finditer(css):
        for string in _CSS_STRING.finditer(image_set.group(1)):
            found.append(("image-set()", string.group(1) or string.group(2) or ""))
    return found


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.is_document = False
        self.offline_policy = False
        self._in_head = False
        self._loaded_before_policy = False
        self._in_style = False
        self.policy_problems: list[str] = []

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.is_document = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("html", "head", "body"):
            self.is_document = True
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        elif tag == "style":
            self._in_style = True
        if tag == "meta":
            self._meta(values)
        if tag in ("script", "link", "style", "img", "iframe", "object", "embed", "base"):
            self._loaded_before_policy = self._loaded_before_policy or not self.offline_policy
        for name in (*_URL_ATTRIBUTES["*"], *_URL_ATTRIBUTES.get(tag, ())):
            if name in values and _remote(values[name]):
                self.found.append(f"<{tag} {name}>: {values[name].strip()}")
        for name in _SRCSET_ATTRIBUTES:
            for candidate in values.get(name, "").split(","):
                url = candidate.strip().split(" ")[0] if candidate.strip() else ""
                if url and _remote(url):
                    self.found.append(f"<{tag} {name}>: {url}")
        if "style" in values:
            self._css(values["style"], f"<{tag} style>")
        if tag == "iframe" and values.get("srcdoc"):
            nested = _Scanner()
            nested.feed(values["srcdoc"])
            nested.close()
            self.found.extend(f"<iframe srcdoc> {ref}" for ref in nested.found)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "style":
            self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data, "<style>")

    def _meta(self, values: dict[str, str]) -> None:
        kind = values.get("http-equiv", "").strip().lower()
        content = values.get("content", "")
        if kind == "refresh":
            target = _REFRESH_URL.match(content)
            if target and _remote(target.group(1)):
                self.found.append(f"<meta refresh>: {target.group(1).strip()}")
        elif kind == "content-security-policy":
            if not self._in_head:
                self.policy_problems.append("Content-Security-Policy <meta> outside <head>")
            elif not blocks_network(content):
                self.policy_problems.append(
                    f"Content-Security-Policy allows the network: {content}"
                )
            elif self._loaded_before_policy:
                self.policy_problems.append(
                    "Content-Security-Policy <meta> after elements it should govern"
                )
            else:
                self.offline_policy = True

    def _css(self, css: str, where: str) -> None:
        for kind, url in _css_urls(css):
            if _remote(url):
                self.found.append(f"{where} {kind}: {url.strip()}")
