"""The model (trained only when due), resolution into gold tables, and the accuracy evaluation.

Each body is one call into `transforms/`; the assets run on their own when silver changes.
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.automation import WAREHOUSE_POOL, downstream_condition
from orchestration.lib.audits import audit_check_specs, audit_results
from orchestration.metadata import table_metadata
from orchestration.resources import LakehouseResource
from transforms.contract import AUDITED_GOLD, GOLD_TABLES, SILVER_TABLES
from transforms.evaluate.er_run import evaluate_and_record
from transforms.resolve.config import load_resolution_config
from transforms.resolve.dashboards import write_dashboards_for
from transforms.resolve.model_policy import maintain_model
from transforms.resolve.pipeline import resolve
from transforms.resolve.publish_gold import publish_gold

SILVER_INPUTS = [dg.AssetKey(["silver", t]) for t in SILVER_TABLES]
MODEL_KEY = dg.AssetKey(["models", "entity_resolution"])
EVALUATION_KEY = dg.AssetKey(["ops", "er_evaluations"])
CHANGES_KEY = dg.AssetKey(["ops", "entity_id_changes"])
DASHBOARDS_KEY = dg.AssetKey(["reports", "er_dashboards"])
GROUP = "entity_resolution"


class TrainConfig(dg.Config):
    """`reason` forces a candidate to be trained (as `lakehouse train` does); empty: only when due."""

    reason: str = ""


@dg.asset(
    key=MODEL_KEY,
    deps=SILVER_INPUTS,
    group_name=GROUP,
    kinds={"splink"},
    automation_condition=downstream_condition(),
    description="The entity-resolution model. A routine run trains nothing: a candidate is trained "
    "when no model is approved, on `lakehouse train`, or when a `retrain` condition of "
    "catalogue/entity_resolution.yml holds; the reason is kept in ops.er_models, and a candidate "
    "waiting for approval shows what it would change against the approved model.",
)
def entity_resolution_model(
    context: dg.AssetExecutionContext, config: TrainConfig, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    env = lakehouse.env()
    outcome = maintain_model(
        env,
        load_resolution_config(env.catalogue_dir),
        context.run.run_id,
        reason=config.reason or None,
    )
    context.log.info(outcome.note)
    metadata: dict[str, object] = dict(outcome.to_dict())
    if outcome.blocking is not None:
        metadata["blocking_analysis"] = table_metadata(outcome.blocking)
    if outcome.diff is not None:
        metadata["diff_sample"] = table_metadata(outcome.diff.sample)
    return dg.MaterializeResult(
        metadata=metadata,
        data_version=dg.DataVersion(f"approved-v{outcome.approved_version}"),
    )


class ResolveConfig(dg.Config):
    """`full_rebuild` re-scores every pair; otherwise only new or changed records are scored."""

    full_rebuild: bool = False


GOLD_KEYS = {t: dg.AssetKey(["gold", t]) for t in GOLD_TABLES}


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(
                key,
                deps=[*SILVER_INPUTS, MODEL_KEY],
                group_name=GROUP,
                kinds={"delta", "splink"},
                description=f"gold.{t} (SCHEMA.md §3), Delta with time travel and a warehouse copy; "
                "published only after its audit.",
                automation_condition=downstream_condition(),
                skippable=True,
            )
            for t, key in GOLD_KEYS.items()
        ),
        dg.AssetSpec(
            CHANGES_KEY,
            deps=[MODEL_KEY],
            group_name=GROUP,
            kinds={"delta"},
            description="Splits, merges, new and retired entity ids, one row per change, per run.",
            automation_condition=downstream_condition(),
            skippable=True,
        ),
    ],
    check_specs=[spec for t in AUDITED_GOLD for spec in audit_check_specs(GOLD_KEYS[t])],
    name="resolve_entities",
    pool=WAREHOUSE_POOL,
)
def resolve_entities(
    context: dg.AssetExecutionContext, config: ResolveConfig, lakehouse: LakehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    env = lakehouse.env()
    result = resolve(
        env, load_resolution_config(env.catalogue_dir), full_rebuild=config.full_rebuild
    )
    publication = publish_gold(env, result, context.run.run_id)
    for conflict in result.conflicts:  # the stewards' to settle; the cannot-link stands
        context.log.warning(conflict.describe())
    if publication.complete:  # gold is published whole or not at all
        for table in GOLD_TABLES:
            audit = publication.audits.get(table)
            yield dg.MaterializeResult(
                asset_key=GOLD_KEYS[table],
                metadata={
                    "rows": publication.rows[table],
                    "mode": result.scored.mode,
                    "records_scored": result.scored.rescored_records,
                    "model_version": result.model_version,
                    "decision_conflicts": len(result.conflicts),
                    "quarantined_rows": audit.quarantined if audit else 0,
                },
            )
        yield dg.MaterializeResult(
            asset_key=CHANGES_KEY,
            metadata={"delta_version": publication.changes_version, **publication.change_counts},
        )
    for table in AUDITED_GOLD:
        yield from audit_results(GOLD_KEYS[table], publication.audits[table])


@dg.asset(
    key=EVALUATION_KEY,
    deps=[GOLD_KEYS["entity_records"]],
    group_name="evaluation",
    kinds={"delta"},
    automation_condition=downstream_condition(),
    description="Pairwise precision, recall, F1 and cluster metrics against truth/.",
    check_specs=[
        dg.AssetCheckSpec(
            "f1_floor",
            asset=EVALUATION_KEY,
            description="Pairwise F1 at or above the configured floor.",
        )
    ],
)
def er_evaluations(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    env = lakehouse.env()
    evaluation = evaluate_and_record(
        env, load_resolution_config(env.catalogue_dir), context.run.run_id
    )
    return dg.MaterializeResult(
        metadata=evaluation.metrics or {"status": "no ground truth"},
        check_results=[
            dg.AssetCheckResult(
                check_name="f1_floor",
                passed=evaluation.meets_floor,
                metadata={"pairwise_f1": evaluation.f1, "floor": evaluation.floor},
            )
        ],
    )


@dg.asset(
    key=DASHBOARDS_KEY,
    deps=[GOLD_KEYS["entity_records"]],
    group_name=GROUP,
    kinds={"html", "splink"},
    automation_condition=downstream_condition(),
    description="Splink comparison viewer and cluster studio under reports/er/, each page with a "
    "Content-Security-Policy that forbids network loads.",
    check_specs=[
        dg.AssetCheckSpec(
            "renders_offline", asset=DASHBOARDS_KEY, description="No CDN or web-font loads."
        )
    ],
)
def er_dashboards(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    pages = write_dashboards_for(lakehouse.env())
    remote = {p.path.name: p.remote_references for p in pages if not p.offline}
    return dg.MaterializeResult(
        metadata={p.path.stem: dg.MetadataValue.path(str(p.path)) for p in pages},
        check_results=[
            dg.AssetCheckResult(
                check_name="renders_offline",
                passed=not remote,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"remote_references": str(remote) if remote else "none"},
            )
        ],
    )


def build_entity_resolution_defs() -> dg.Definitions:
    """The entity-resolution domain (nothing in it depends on the catalogue's datasets)."""
    return dg.Definitions(
        assets=[entity_resolution_model, resolve_entities, er_evaluations, er_dashboards]
    )
