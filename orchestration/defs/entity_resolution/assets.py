"""Training (its own asset), resolution into gold tables, and the accuracy evaluation."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from orchestration.defs.transform.factory import audit_check_specs, audit_results
from orchestration.metadata import markdown_table
from orchestration.resources import LakehouseResource
from transforms.delta_io import read_table
from transforms.evaluate.entities import er_evaluation
from transforms.evaluate.reports import has_truth
from transforms.publish import append_frame, publish_frames
from transforms.quality.lineage import gold_to_silver
from transforms.quality.results import record_results
from transforms.quality.suites import load_suite
from transforms.quality.wap import Audit, audit_publish
from transforms.resolve.config import load_resolution_config
from transforms.resolve.dashboards import write_dashboards
from transforms.resolve.pipeline import GOLD_TABLES, resolve, silver_features
from transforms.resolve.registry import approve, approved_model, registry, save_model
from transforms.resolve.training import train_model

SILVER_INPUTS = [
    dg.AssetKey(["silver", t])
    for t in (
        "person_records",
        "addresses",
        "comms_identifiers",
        "document_identifiers",
        "comms_events",
    )
]
MODEL_KEY = dg.AssetKey(["models", "entity_resolution"])
EVALUATION_KEY = dg.AssetKey(["ops", "er_evaluations"])
GROUP = "entity_resolution"


@dg.asset(
    key=MODEL_KEY,
    deps=SILVER_INPUTS,
    group_name=GROUP,
    kinds={"splink", "duckdb"},
    description="Trains a candidate Splink model (blocking rules measured, u by random sampling, "
    "EM per blocking rule) and stores it as a new version; prediction uses the latest approved one.",
)
def entity_resolution_model(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    env = lakehouse.env()
    config = load_resolution_config(env.catalogue_dir)
    features, _ = silver_features(env)
    trained = train_model(env, features, config)
    stored = save_model(
        env,
        trained.settings,
        trained.term_frequencies,
        trained.blocking_rules,
        features.height,
        context.run.run_id,
    )
    approved_before = registry(env).filter(pl.col("event") == "approved").height > 0
    if config.training.auto_approve_first and not approved_before:
        approve(env, stored.version, user="auto-approve-first", run_id=context.run.run_id)
    approved = registry(env).filter(pl.col("event") == "approved")
    return dg.MaterializeResult(
        metadata={
            "version": stored.version,
            "approved_version": int(approved["version"].max()) if approved.height else -1,
            "records": features.height,
            "blocking_analysis": dg.MetadataValue.md(markdown_table(trained.blocking)),
            "model_path": str(stored.settings_path),
        }
    )


class ResolveConfig(dg.Config):
    """`full_rebuild` re-scores every pair; otherwise only new or changed records are scored."""

    full_rebuild: bool = False


GOLD_KEYS = {t: dg.AssetKey(["gold", t]) for t in GOLD_TABLES}
AUDITED_GOLD = ("entity_records", "entities", "entity_links")
GOLD_KEY_COLUMNS = {
    "entity_records": "record_key",
    "entities": "entity_id",
    "entity_links": "entity_id_a",
}


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
            )
            for t, key in GOLD_KEYS.items()
        ),
        dg.AssetSpec(
            ["ops", "entity_id_changes"],
            deps=[MODEL_KEY],
            group_name=GROUP,
            kinds={"delta"},
            description="Splits, merges, new and retired entity ids, one row per change, per run.",
        ),
    ],
    check_specs=[spec for t in AUDITED_GOLD for spec in audit_check_specs(GOLD_KEYS[t])],
    name="resolve_entities",
)
def resolve_entities(
    context: dg.AssetExecutionContext, config: ResolveConfig, lakehouse: LakehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    env = lakehouse.env()
    settings = load_resolution_config(env.catalogue_dir)
    result = resolve(env, settings, full_rebuild=config.full_rebuild)
    run_id = context.run.run_id
    persons = read_table(env, "silver.person_records", columns=["record_key"])
    audits: dict[str, Audit] = {}
    for table in AUDITED_GOLD:
        audits[table] = audit_publish(
            env,
            "gold",
            table,
            result.tables[table],
            load_suite(env.expectations_dir / "gold" / f"{table}.json"),
            run_id,
            key=GOLD_KEY_COLUMNS[table],
            lineage=gold_to_silver(result.tables[table], persons)
            if table == "entity_records"
            else None,
        )
        if not audits[table].published:
            break  # the last good gold stays as it is; nothing further is published
    record_results(env, [c for a in audits.values() for c in a.checks], run_id)
    complete = len(audits) == len(AUDITED_GOLD) and all(a.published for a in audits.values())
    if complete:
        publish_frames(
            env, "gold", {"entity_evidence": result.tables["entity_evidence"]}, run_id=run_id
        )
        publish_frames(env, "ops", {"er_state": result.state}, run_id=run_id, warehouse=False)
    changes = result.changes.with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.lit(datetime.now(UTC)).alias("recorded_at"),
        pl.lit(result.model_version).alias("model_version"),
    )
    version = append_frame(env, "ops.entity_id_changes", changes, run_id=run_id) if complete else -1
    for table in GOLD_TABLES:
        audit = audits.get(table)
        yield dg.MaterializeResult(
            asset_key=GOLD_KEYS[table],
            metadata={
                "published": complete,
                "rows": result.tables[table].height,
                "mode": result.scored.mode,
                "records_scored": result.scored.rescored_records,
                "model_version": result.model_version,
                "quarantined_rows": audit.quarantined if audit else 0,
            },
        )
    for table in AUDITED_GOLD:
        skipped = Audit(f"gold.{table}", -1, False, blocking_failed=["not audited"])
        skipped.checks = [
            {
                "check": "not audited: an earlier gold table failed its audit",
                "severity": "blocking",
                "passed": False,
                "failing": 0,
                "failing_share": 0.0,
                "sample_keys": [],
            }
        ]
        yield from audit_results(GOLD_KEYS[table], audits.get(table) or skipped)
    counts = changes.group_by("change").len()
    yield dg.MaterializeResult(
        asset_key=["ops", "entity_id_changes"],
        metadata={"delta_version": version, **{f"changes_{c}": n for c, n in counts.iter_rows()}},
    )


@dg.asset(
    key=EVALUATION_KEY,
    deps=[dg.AssetKey(["gold", "entity_records"])],
    group_name="evaluation",
    kinds={"delta"},
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
    if not has_truth(env):
        return dg.MaterializeResult(
            metadata={"status": "no ground truth"},
            check_results=[
                dg.AssetCheckResult(
                    check_name="f1_floor", passed=True, metadata={"status": "skipped"}
                )
            ],
        )
    floor = load_resolution_config(env.catalogue_dir).f1_floor
    metrics = er_evaluation(env.truth, read_table(env, "gold.entity_records"))
    row = pl.DataFrame(
        [{**metrics, "run_id": context.run.run_id, "recorded_at": datetime.now(UTC)}]
    )
    append_frame(env, "ops.er_evaluations", row, run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata=metrics,
        check_results=[
            dg.AssetCheckResult(
                check_name="f1_floor",
                passed=metrics["pairwise_f1"] >= floor,
                metadata={"pairwise_f1": metrics["pairwise_f1"], "floor": floor},
            )
        ],
    )


DASHBOARDS_KEY = dg.AssetKey(["reports", "er_dashboards"])


@dg.asset(
    key=DASHBOARDS_KEY,
    deps=[dg.AssetKey(["gold", "entity_records"])],
    group_name=GROUP,
    kinds={"html", "splink"},
    description="Splink comparison viewer and cluster studio under reports/er/, checked to load nothing "
    "from the network.",
    check_specs=[
        dg.AssetCheckSpec(
            "renders_offline", asset=DASHBOARDS_KEY, description="No CDN or web-font loads."
        )
    ],
)
def er_dashboards(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    env = lakehouse.env()
    features, _ = silver_features(env)
    pages = write_dashboards(
        env, features, read_table(env, "gold.entity_records"), approved_model(env)
    )
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
