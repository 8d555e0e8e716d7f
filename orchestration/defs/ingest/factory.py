"""The one factory that turns catalogue entries into ingestion assets, checks and schedules.

Adding a dataset is a YAML file: nothing here names a dataset.
"""

from collections.abc import Iterable

import dagster as dg
import polars as pl

from orchestration.metadata import markdown_table
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.ingest import AuthorisationError, IngestSummary, ingest_dataset, pending_deliveries
from transforms.quality.bronze import BronzeAudit, audit_bronze
from transforms.quality.results import record_results

CHECK_ACCEPTED = "deliveries_accepted"
CHECK_GX_BLOCKING = "gx_blocking"
CHECK_GX_WARNINGS = "gx_warnings"


def bronze_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["bronze", dataset.name])


def dataset_tags(dataset: Dataset) -> dict[str, str]:
    """Tags the UI can filter on; classification is also the basis of governance."""
    return {"classification": dataset.classification, "kind": dataset.kind, "layer": "bronze"}


def ingestion_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """The bronze asset of one dataset: ingest every pending delivery from landing."""
    key = bronze_key(dataset)

    @dg.asset(
        key=key,
        group_name=f"bronze_{dataset.kind}",
        description=f"{dataset.title}. {dataset.description.strip()}",
        owners=[dataset.owner],
        tags=dataset_tags(dataset),
        kinds={"delta", dataset.source.format},
        metadata={
            "classification": dataset.classification,
            "access": dataset.access,
            "authorisation": dataset.authorisation.reference if dataset.authorisation else "NONE",
            "authorisation_expires_on": str(dataset.authorisation.expires_on)
            if dataset.authorisation
            else "NONE",
            "retention_days": dataset.retention_days,
            "columns": dg.TableSchema(
                columns=[
                    dg.TableColumn(c.name, c.type, description=c.format) for c in dataset.columns
                ]
            ),
        },
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_ACCEPTED,
                asset=key,
                description="Every delivery of this run was accepted (rejections are quarantined).",
            ),
            dg.AssetCheckSpec(
                CHECK_GX_BLOCKING,
                asset=key,
                blocking=True,
                description="Great Expectations schema and key expectations on the newest delivery.",
            ),
            dg.AssetCheckSpec(
                CHECK_GX_WARNINGS,
                asset=key,
                description="Soft expectations (formats, row-count drift) on the newest delivery.",
            ),
        ],
    )
    def _ingest(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        env = lakehouse.env()
        try:
            summary = ingest_dataset(env, dataset, run_id=context.run.run_id)
        except AuthorisationError as exc:
            raise dg.Failure(
                description=str(exc),
                metadata={
                    "dataset": dataset.name,
                    "authorisation": exc.reference or "NONE",
                    "expires_on": str(exc.expires_on),
                },
            ) from exc
        for outcome in summary.outcomes:
            log = context.log.warning if outcome.status == "rejected" else context.log.info
            log(
                f"{dataset.name} delivery {outcome.delivery_id}: {outcome.status} {outcome.reason or ''}"
            )
        newest = [o.delivery_id for o in summary.outcomes if o.status == "ingested"]
        audit = audit_bronze(env, dataset, newest[-1] if newest else None)
        record_results(env, audit.checks, context.run.run_id)
        return _result(summary, audit)

    return _ingest


def _gx_result(
    check: str, failing: list[dict[str, object]], audit: BronzeAudit, warn: bool
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check,
        passed=not failing,
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        metadata={
            "delivery": audit.delivery_id or "no new delivery",
            "failing": dg.MetadataValue.md(
                markdown_table(
                    pl.DataFrame(failing).select(
                        "check", "failing", "failing_share", "sample_keys", "detail"
                    )
                )
            )
            if failing
            else "none",
        },
    )


def _result(summary: IngestSummary, audit: BronzeAudit) -> dg.MaterializeResult:
    rejected = [o for o in summary.outcomes if o.status == "rejected"]
    return dg.MaterializeResult(
        metadata={
            "deliveries_ingested": summary.count("ingested"),
            "deliveries_rejected": summary.count("rejected"),
            "deliveries_duplicate": summary.count("duplicate"),
            "rows_ingested": sum(o.rows for o in summary.outcomes),
            "delta_version": summary.version if summary.version is not None else -1,
        },
        data_version=dg.DataVersion(str(summary.version)) if summary.version is not None else None,
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_ACCEPTED,
                passed=not rejected,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "rejected": len(rejected),
                    "reasons": "\n".join(f"{o.delivery_id}: {o.reason}" for o in rejected)
                    or "none",
                },
            ),
            _gx_result(CHECK_GX_BLOCKING, audit.failing("blocking"), audit, warn=False),
            _gx_result(CHECK_GX_WARNINGS, audit.failing("warn"), audit, warn=True),
        ],
    )


def landing_sensor(catalogue: dict[str, Dataset]) -> dg.SensorDefinition:
    """Start ingestion of a dataset as soon as a new delivery folder appears in landing."""

    @dg.sensor(
        name="landing_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=[bronze_key(d) for d in catalogue.values()],
        description="Requests ingestion of any dataset with a delivery the ledger has not settled.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lakehouse: LakehouseResource
    ) -> Iterable[dg.RunRequest]:
        env = lakehouse.env()
        for dataset in catalogue.values():
            pending = pending_deliveries(env, dataset)
            if pending:
                yield dg.RunRequest(
                    run_key=f"{dataset.name}:{','.join(pending)}",
                    asset_selection=[bronze_key(dataset)],
                    tags={"dataset": dataset.name},
                )

    return _sensor


def refresh_schedules(catalogue: dict[str, Dataset]) -> list[dg.ScheduleDefinition]:
    """Each dataset's `refresh` cron becomes a schedule (off until the platform team turns it on)."""
    return [
        dg.ScheduleDefinition(
            name=f"{dataset.name}_refresh",
            cron_schedule=dataset.refresh,
            target=dg.AssetSelection.assets(bronze_key(dataset)),
            execution_timezone=dataset.timezone,
            description=f"Refresh {dataset.title} as the catalogue asks ({dataset.refresh}).",
        )
        for dataset in catalogue.values()
        if dataset.refresh != "manual"
    ]


def build_ingest_defs(catalogue: dict[str, Dataset]) -> dg.Definitions:
    """Everything the ingestion domain contributes, for any catalogue."""
    return dg.Definitions(
        assets=[ingestion_asset(d) for d in catalogue.values()],
        sensors=[landing_sensor(catalogue)],
        schedules=refresh_schedules(catalogue),
    )
