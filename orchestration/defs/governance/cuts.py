"""The factory that turns partner agreements into cut assets, each cut on its agreed cron.

A cut runs on each tick of the partner's `schedule` (declarative automation), once nothing it
reads is being rebuilt; its manifest names the gold versions it read and whether deliveries
were still pending. Adding a partner is a YAML file in `catalogue/partners/`: nothing here
names a partner.
"""

from collections.abc import Iterable

import dagster as dg
import polars as pl

from orchestration.automation import on_schedule
from orchestration.classification import FILTER_TAG
from orchestration.metadata import table_metadata
from orchestration.resources import LakehouseResource
from transforms.governance.cuts import CutRefused, make_cut
from transforms.governance.partners import Partner

GROUP = "governance"


def cut_key(partner: Partner) -> dg.AssetKey:
    return dg.AssetKey(["cuts", partner.name])


def cut_deps(partner: Partner) -> list[dg.AssetKey]:
    """The tables the cut reads (links are checked against `gold.entities` too).

    A cut under a task maps record tables to the task's entities through `gold.entity_records`.
    """
    tables = [t.table for t in partner.tables]
    if "gold.entity_links" in tables and "gold.entities" not in tables:
        tables.append("gold.entities")
    by_record = set(tables) - {"gold.entities", "gold.entity_links", "gold.entity_records"}
    if partner.task is not None and by_record:
        tables.append("gold.entity_records")
    return [dg.AssetKey(t.split(".", 1)) for t in tables]


def cut_asset(partner: Partner) -> dg.AssetsDefinition:
    """The cut of one partner: `cuts/<partner>/<run_id>/`, recorded in `ops.disclosures`."""

    @dg.asset(
        key=cut_key(partner),
        deps=cut_deps(partner),
        group_name=GROUP,
        automation_condition=on_schedule(partner.schedule, partner.timezone)
        if partner.scheduled
        else None,
        description=f"{partner.title}. Purpose: {partner.purpose} Agreement {partner.agreement}; "
        f"clearance {partner.clearance}. Refused, never trimmed silently, when the agreement "
        "asks for more than the clearance allows."
        + (
            f" Only the entities matched by searches under task {partner.task}."
            if partner.task
            else ""
        ),
        tags={"classification": partner.clearance, FILTER_TAG: partner.clearance},
        kinds={"parquet", "csv"},
        metadata={
            "clearance": partner.clearance,
            "agreement": partner.agreement,
            "schedule": partner.schedule,
            "tables": ", ".join(t.table for t in partner.tables),
            "task": partner.task or "none",
        },
    )
    def _cut(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        env = lakehouse.env()
        try:
            cut = make_cut(env, partner, context.run.run_id)
        except CutRefused as exc:
            raise dg.Failure(
                description=str(exc), metadata={"reason": exc.reason}, allow_retries=False
            ) from exc
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(cut.folder)),
                "manifest": dg.MetadataValue.path(str(cut.manifest_path)),
                "manifest_sha256": cut.manifest_sha256,
                "rows": cut.rows,
                "withheld": cut.withheld,
                "classification": cut.classification,
                "task": cut.task or "none",
                "note": cut.note or "none",
                "gold_up_to_date": cut.currency.up_to_date,
                "deliveries_pending": ", ".join(
                    f"{d}/{i}" for d, ids in cut.currency.pending_deliveries.items() for i in ids
                )
                or "none",
                "bronze_newer_than_gold": ", ".join(cut.currency.bronze_newer_than_gold) or "none",
                "tables": table_metadata(
                    pl.DataFrame(
                        [
                            {
                                "table": t.table,
                                "delta_version": t.delta_version,
                                "rows": t.rows,
                                "withheld_above_clearance": t.withheld_above_clearance,
                                "withheld_above_max_classification": (
                                    t.withheld_above_max_classification
                                ),
                            }
                            for t in cut.tables
                        ]
                    )
                ),
            }
        )

    return _cut


def build_cut_defs(partners: dict[str, Partner] | Iterable[Partner]) -> dg.Definitions:
    """One asset per partner; those not `manual` are cut on their cron."""
    chosen = list(partners.values()) if isinstance(partners, dict) else list(partners)
    return dg.Definitions(assets=[cut_asset(p) for p in chosen])
