"""Render the catalogue into the two dbt files derived from it, so dbt never repeats a fact.

- `models/staging/_sources.yml`: one bronze source table per dataset (our Delta plugin reads it
  at the Delta version pinned in the `bronze_versions` var), with each column's format.
- `macros/_catalogue_entries.sql`: `catalogue_entries()`, the facts staging SQL needs
  (classification, country, record id, formats) and the list the union model iterates.

Both are generated (git-ignored); adding a dataset never means editing them.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from transforms.catalogue import Dataset, load_catalogue

HEADER = "# Generated from catalogue/ by transforms/dbt_catalogue.py: do not edit.\n"


def sources_yaml(catalogue: dict[str, Dataset]) -> str:
    """The dbt sources file for every bronze table of the catalogue."""
    tables = [
        {
            "name": d.name,
            "description": f"{d.title} ({d.classification}, {d.access}).",
            "meta": {
                "table": f"bronze.{d.name}",
                "as_of_version": f"{{{{ var('bronze_versions', {{}}).get('{d.name}', '') }}}}",
                # an incremental build reads only these deliveries (transforms/silver_plan.py)
                "deliveries": f"{{{{ tojson(var('silver_reads', {{}}).get('{d.name}')) }}}}",
            },
            "columns": [
                {"name": c.name, "description": c.description or "", "meta": {"format": c.format}}
                for c in d.columns
            ],
        }
        for d in sorted(catalogue.values(), key=lambda d: d.name)
    ]
    document = {
        "version": 2,
        "sources": [
            {
                "name": "bronze",
                # On Spark the bronze tables are global temporary views over the pinned Delta
                # files (transforms/spark/delta.py), registered in the session dbt runs in.
                "schema": "{{ 'global_temp' if target.type == 'spark' else 'bronze' }}",
                "description": "Bronze Delta tables written by the ingestion assets.",
                "meta": {"plugin": "lakehouse"},
                "tables": tables,
            }
        ],
    }
    return HEADER + yaml.safe_dump(document, sort_keys=False, width=120)


def entries_macro(catalogue: dict[str, Dataset]) -> str:
    """A macro returning the catalogue facts staging SQL needs, as a dict literal."""
    entries = {
        d.name: {
            "classification": d.classification,
            "country": d.country,
            "timezone": d.timezone,
            "kind": d.kind,
            "record_id": d.source.record_id,
            "formats": {c.name: c.format for c in d.columns if c.format},
            "columns": [c.name for c in d.columns],
        }
        for d in sorted(catalogue.values(), key=lambda d: d.name)
    }
    return (
        "{#- Generated from catalogue/ by transforms/dbt_catalogue.py: do not edit. -#}\n"
        "{% macro catalogue_entries() %}{{ return("
        + json.dumps(entries, sort_keys=True)
        + ") }}{% endmacro %}\n"
    )


def render_dbt_catalogue(catalogue_dir: Path, dbt_dir: Path) -> list[Path]:
    """Write both generated files when their content changed; return the files written."""
    catalogue = load_catalogue(catalogue_dir)
    targets = {
        dbt_dir / "models" / "staging" / "_sources.yml": sources_yaml(catalogue),
        dbt_dir / "macros" / "_catalogue_entries.sql": entries_macro(catalogue),
    }
    written = []
    for path, text in targets.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def main() -> None:
    """`python -m transforms.dbt_catalogue`: render for the configured catalogue (`make manifest`)."""
    from transforms.config import get_environment

    env = get_environment()
    for path in render_dbt_catalogue(env.catalogue_dir, env.dbt_project_dir):
        print(f"rendered {path}")


if __name__ == "__main__":
    main()
