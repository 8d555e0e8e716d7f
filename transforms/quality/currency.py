"""Whether gold reflects every delivery: what a cut or a report should say it was made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.delta_io import TableNotFound, open_table
from transforms.ingest import pending_deliveries


@dataclass(frozen=True)
class GoldCurrency:
    """Deliveries not yet in gold: still in landing, or in bronze since gold was last published."""

    pending_deliveries: dict[str, list[str]]  # dataset -> delivery ids in landing, not ingested
    bronze_newer_than_gold: list[str]  # bronze tables committed after gold's latest version

    @property
    def up_to_date(self) -> bool:
        return not self.pending_deliveries and not self.bronze_newer_than_gold

    def to_dict(self) -> dict[str, Any]:
        return {
            "up_to_date": self.up_to_date,
            "pending_deliveries": self.pending_deliveries,
            "bronze_newer_than_gold": self.bronze_newer_than_gold,
        }


def _latest_commit_ms(env: Environment, table: str) -> int | None:
    try:
        entries = open_table(env.table_path(table)).history(limit=1)
    except TableNotFound:
        return None
    return int(entries[0]["timestamp"]) if entries else None


def gold_currency(env: Environment) -> GoldCurrency:
    """How current `gold.entity_records` is against landing and bronze, now."""
    catalogue = load_catalogue(env.catalogue_dir)
    pending = {name: ids for name, d in catalogue.items() if (ids := pending_deliveries(env, d))}
    gold = _latest_commit_ms(env, "gold.entity_records")
    newer = sorted(
        f"bronze.{name}"
        for name in catalogue
        if (bronze := _latest_commit_ms(env, f"bronze.{name}")) is not None
        and (gold is None or bronze > gold)
    )
    return GoldCurrency(pending, newer)
