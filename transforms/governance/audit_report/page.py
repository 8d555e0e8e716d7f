"""The report as one static HTML page: inline CSS, no scripts, the lakehouse's CSP.

Rendered with Jinja2 (autoescaped) from the template below, so it opens on an air-gapped desk
and can be filed as it is; `<details>` folds the long lists (certificate files, cut files)
without any script.
"""

from __future__ import annotations

from typing import Any

import jinja2
import markupsafe

from transforms.html_pages import CSP, csp_meta


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


_TEMPLATE = """<!doctype html>
<html lang="en"><head>
{{ csp }}
<meta charset="utf-8">
<title>{{ r.title }} {{ r.period.from }} to {{ r.period.to }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; max-width: 90rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #c9d1da; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.88rem; }
th, td { border: 1px solid #c9d1da; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, monospace; font-size: 0.8rem; word-break: break-all; }
.pass { color: #0b6b2f; font-weight: 600; } .fail { color: #a11d1d; font-weight: 600; }
.warn { color: #8a5a00; font-weight: 600; } tr.flag td { background: #fff4d6; }
.note { color: #52606d; font-size: 0.85rem; }
</style>
</head><body>
{% macro table(items, columns=None, flag=None) %}
{% if not items %}<p class="note">none</p>{% else %}
{% set cols = columns or (items[0].keys() | list) %}
<table><thead><tr>{% for c in cols %}<th>{{ c | replace("_", " ") }}</th>{% endfor %}</tr></thead>
<tbody>
{% for item in items %}
<tr{% if flag and item[flag] %} class="flag"{% endif %}>
{% for c in cols %}{% set v = item[c] %}
<td{% if v is number and v is not boolean %} class="num"{% endif %}>{{ v | show }}</td>
{% endfor %}</tr>
{% endfor %}
</tbody></table>
{% endif %}
{% endmacro %}
<h1>{{ r.title }}</h1>
<p>Period <strong>{{ r.period.from }}</strong> to <strong>{{ r.period.to }}</strong>
(inclusive, UTC). Generated {{ r.generated_at }} from <code>{{ r.lakehouse }}</code>.</p>

<h2 id="summary">Summary</h2>
<table><thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead><tbody>
{% for f in r.findings %}
<tr><td>{{ f.check | replace("_", " ") }}</td>
<td class="{{ 'pass' if f.passed else ('warn' if f.get("severity") == "warn" else 'fail') }}">
{{ 'pass' if f.passed else ('warning' if f.get("severity") == "warn" else 'FAIL') }}</td>
<td>{{ f.detail }}</td></tr>
{% endfor %}
</tbody></table>

{% set ret = r.retention %}
<h2 id="retention">Retention</h2>
<p>Records past retention now: <strong class="{{ 'pass' if ret.records_past_retention == 0
else 'fail' }}">{{ ret.records_past_retention }}</strong>. A record's age is its bronze
<code>_ingested_at</code>; each dataset's figures come from the query shown, run now.</p>
<table><thead><tr><th>dataset</th><th>retention days</th><th>cut-off</th><th>records held</th>
<th>oldest record held</th><th>past retention</th><th>query</th></tr></thead><tbody>
{% for d in ret.datasets %}
<tr{% if d.past_retention %} class="flag"{% endif %}><td>{{ d.dataset }}</td>
<td class="num">{{ d.retention_days | show }}</td><td>{{ d.cutoff }}</td>
<td class="num">{{ d.records_held | show }}</td><td>{{ d.oldest_ingested_at | show }}</td>
<td class="num">{{ d.past_retention | show }}</td><td><code>{{ d.query }}</code></td></tr>
{% endfor %}
</tbody></table>
<h3>Retention runs in the period</h3>
{{ table(ret.retention_runs) }}
<p class="note">{{ ret.note }}</p>

{% set des = r.destruction %}
<h2 id="destruction">Destruction</h2>
<p>{{ des.destructions | length }} destructions in the period, {{ des.record_keys }} record keys.</p>
{% for c in des.destructions %}
<h3>Certificate {{ c.destruction_id }}</h3>
<p>{{ c.at }}: <strong>{{ c.dataset }}</strong> ({{ c.scope }}), by {{ c.user }}, because
&ldquo;{{ c.reason }}&rdquo;; {{ c.record_keys | length }} records:
<code>{{ c.record_keys | join(", ") }}</code></p>
{{ table(c.rows_per_table | dictsort | map("pair", "where", "rows") | list) }}
<details><summary>Versions purged ({{ c.versions_purged | length }} tables)</summary>
{{ table(c.versions_purged | dictsort | map("pair", "table", "versions") | list) }}</details>
<details><summary>Files removed ({{ c.removed_files | length }}) and rewritten
({{ c.rewritten_files | length }}), with sha256</summary>
<h4>Removed</h4>{{ table(c.removed_files) }}<h4>Rewritten</h4>{{ table(c.rewritten_files) }}
</details>
{% endfor %}
{% set check = des.reverification %}
<h3>Re-verification, now</h3>
<p class="{{ 'pass' if check.clean else 'fail' }}">
{{ 'Clean' if check.clean else 'NOT CLEAN' }}: {{ check.keys_searched }} destroyed keys searched in
{{ check.tables_checked }} tables with record keys, {{ check.versions_checked }} table versions
({{ check.bound }}).</p>
<h4>Where a destroyed key is still present</h4>{{ table(check.present) }}
<details><summary>Tables searched</summary>{{ table(check.tables) }}</details>
<h4>Purged versions opened (each must be unreadable)</h4>
{{ table(check.purged_versions, flag="readable") }}

{% set dis = r.disclosure %}
<h2 id="disclosure">Disclosure</h2>
<p>{{ dis.cuts | length }} partner cuts, {{ dis.rows | show }} rows disclosed,
{{ dis.withheld_above_clearance | show }} rows withheld above the partner's clearance.</p>
<table><thead><tr><th>partner</th><th>clearance</th><th>task</th><th>run</th><th>generated</th>
<th>rows</th><th>withheld above clearance</th><th>manifest</th><th>files ok</th>
<th>verified</th></tr></thead><tbody>
{% for c in dis.cuts %}
<tr{% if not c.verified %} class="flag"{% endif %}><td>{{ c.partner }}</td>
<td>{{ c.clearance }}</td><td>{{ c.task | show }}</td><td><code>{{ c.run_id }}</code></td>
<td>{{ c.generated_at }}</td><td class="num">{{ c.rows | show }}</td>
<td class="num">{{ c.withheld_above_clearance | show }}</td><td>{{ c.manifest }}</td>
<td class="num">{{ c.files | selectattr("status", "equalto", "ok") | list | length }} of
{{ c.files | length }}</td>
<td class="{{ 'pass' if c.verified else 'fail' }}">{{ c.verified | show }}</td></tr>
{% endfor %}
</tbody></table>
{% for c in dis.cuts %}
<details{% if not c.verified %} open{% endif %}><summary>{{ c.partner }} {{ c.run_id }}:
manifest sha256 recorded <span class="hash">{{ c.manifest_sha256_recorded }}</span>, now
<span class="hash">{{ c.manifest_sha256_now | show }}</span></summary>
{{ table(c.files, ["table", "name", "status", "sha256_manifest", "sha256_now", "as_disclosed"],
flag=None) }}
{% if c.unlisted_files %}<p class="fail">Files not in the manifest:
{{ c.unlisted_files | join(", ") }}</p>{% endif %}
{% if c.redactions %}<p class="note">Redacted by destructions:
{{ c.redactions | map(attribute="destruction_id") | join(", ") }}</p>{% endif %}
</details>
{% endfor %}

{% set acc = r.access %}
<h2 id="access">Security and access</h2>
<p>{{ acc.requests | show }} governed requests: {{ acc.queries | show }} queries,
{{ acc.searches | show }} searches; {{ acc.refusals | show }} refused.</p>
<h3>Per user, purpose and task</h3>{{ table(acc.by_user_purpose_task) }}
<h3>Refusals by reason</h3>{{ table(acc.refusals_by_reason) }}
<h3>Reads attempted above the user's clearance</h3>{{ table(acc.above_clearance_attempts) }}
<h3>Classification changes</h3>{{ table(acc.reclassifications) }}

{% set auth = r.authorisation %}
<h2 id="authorisation">Authorisation</h2>
<p>On {{ auth.today }}; datasets expiring within {{ auth.warning_days }} days are flagged:
<strong>{{ auth.expiring_soon | join(", ") or "none" }}</strong>.</p>
{{ table(auth.datasets, flag="expiring_soon") }}
<h3>Deliveries refused by the gate</h3>
<p class="note">The gate refuses a dataset without a current authorisation before anything is
read or recorded: these deliveries wait in landing, unread.</p>
{{ table(auth.refused_by_gate) }}
<h3>Deliveries rejected in the period (validation)</h3>{{ table(auth.rejected_deliveries) }}

{% set out = r.output %}
<h2 id="output">Output</h2>
{{ table([out.totals]) }}
<h3>Per month</h3>{{ table(out.per_month) }}
<h3>Per task</h3>{{ table(out.per_task) }}
<h3>Per month and task</h3>{{ table(out.per_month_and_task) }}

<h2 id="tasks">Tasks</h2>
{% if r.tasks.available %}{{ table(r.tasks.tasks) }}
{% else %}<p class="note">The tasking register is not available.</p>{% endif %}

{% set te = r.tamper_evidence %}
<h2 id="tamper">Tamper evidence</h2>
<p class="{{ 'pass' if te.ok else ('note' if te.ok is none else 'fail') }}">{{ te.verdict }}</p>
{% if te.breaks %}{{ table(te.breaks, ["seq", "kind", "detail"]) }}{% endif %}
</body></html>
"""

_ENVIRONMENT = jinja2.Environment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters["show"] = _value
_ENVIRONMENT.filters["pair"] = lambda item, key, value: {key: item[0], value: item[1]}
_PAGE = _ENVIRONMENT.from_string(_TEMPLATE)


def render_html(report: dict[str, Any]) -> str:
    """The report as a self-contained page (no network loads; see transforms/html_pages.py)."""
    return _PAGE.render(r=report, csp=markupsafe.Markup(csp_meta(CSP)))
