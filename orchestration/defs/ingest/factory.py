"""The one factory that turns catalogue entries into ingestion assets, checks and the sensor.

Each delivery is a dynamic partition of its dataset's bronze asset: the landing sensor adds the
partition and requests its run, so the UI shows every delivery's materialisation and checks,
and one delivery can be re-run. The ledger `ops.deliveries` stays the lasting record.
Adding a dataset is a YAML file: nothing here names a dataset.
"""

import dagster as dg
import polars as pl

from orchestration.metadata import table_metadata
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.ingest import AuthorisationError, pending_deliveries
from transforms.quality.bronze import DeliveryRun, ingest_and_audit
from transforms.schedules import cron_period

CHECK_ACCEPTED = "deliveries_accepted"
CHECK_GX_BLOCKING = "gx_blocking"
CHECK_GX_WARNINGS = "gx_warnings"


def bronze_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["bronze", dataset.name])


def deliveries(dataset: Dataset) -> dg.DynamicPartitionsDefinition:
    """The dataset's deliveries, one partition each (keys are delivery ids)."""
    return dg.DynamicPartitionsDefinition(name=f"{dataset.name}_deliveries")


def dataset_tags(dataset: Dataset) -> dict[str, str]:
    """Tags the UI can filter on; classification is also the basis of governance."""
    return {"classification": dataset.classification, "kind": dataset.kind, "layer": "bronze"}


def dataset_metadata(dataset: Dataset) -> dict[str, object]:
    auth = dataset.authorisation
    return {
        "classification": dataset.classification,
        "access": dataset.access,
        "refresh": dataset.refresh,
        "authorisation": auth.reference if auth else "NONE",
        "authorisation_expires_on": str(auth.expires_on) if auth else "NONE",
        "retention_days": dataset.retention_days,
        "columns": dg.TableSchema(
            columns=[dg.TableColumn(c.name, c.type, description=c.format) for c in dataset.columns]
        ),
    }


def ingestion_checks(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """Schema and key checks block everything downstream; the others inform.

    A rejected delivery fails `deliveries_accepted` (severity ERROR) but is not blocking: it
    changed nothing in bronze and is not materialised, so nothing downstream runs for it, while
    a blocking failure would hold back every later delivery of the dataset until one passed.
    """
    return [
        dg.AssetCheckSpec(
            CHECK_ACCEPTED,
            asset=key,
            description="The delivery was accepted (a rejected one is quarantined, never published).",
        ),
        dg.AssetCheckSpec(
            CHECK_GX_BLOCKING,
            asset=key,
            blocking=True,
            description="Great Expectations schema and key expectations on the delivery's rows.",
        ),
        dg.AssetCheckSpec(
            CHECK_GX_WARNINGS,
            asset=key,
            description="Soft expectations (formats, row-count drift) on the delivery's rows.",
        ),
    ]


def ingestion_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """The bronze asset of one dataset; a partition's run ingests and audits that delivery.

    A delivery that changes nothing (rejected, a duplicate, or settled by an earlier run) reports
    its checks but no materialisation, so nothing downstream runs for it.
    """
    key = bronze_key(dataset)

    @dg.multi_asset(
        name=f"ingest_{dataset.name}",
        specs=[
            dg.AssetSpec(
                key,
                group_name=f"bronze_{dataset.kind}",
                description=f"{dataset.title}. {dataset.description.strip()}",
                owners=[dataset.owner],
                tags=dataset_tags(dataset),
                kinds={"delta", dataset.source.format},
                metadata=dataset_metadata(dataset),
                partitions_def=deliveries(dataset),
                freshness_policy=freshness_policy(dataset),
                skippable=True,
            )
        ],
        check_specs=ingestion_checks(key),
    )
    def _ingest(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):  # type: ignore[no-untyped-def]
        try:
            run = ingest_and_audit(
                lakehouse.env(), dataset, context.partition_key, context.run.run_id
            )
        except AuthorisationError as exc:
            raise dg.Failure(
                description=str(exc),
                metadata={"dataset": dataset.name, "authorisation": exc.reference or "NONE"},
                allow_retries=False,
            ) from exc
        if run.changed_bronze:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata=_materialisation_metadata(run),
                data_version=dg.DataVersion(str(run.version)),
            )
        else:
            context.log.info(
                f"{dataset.name} delivery {run.delivery_id}: {run.outcome.status}; bronze unchanged"
            )
        yield from _check_results(key, run)

    return _ingest


def _materialisation_metadata(run: DeliveryRun) -> dict[str, object]:
    return {
        "delivery": run.delivery_id,
        "status": run.outcome.status,
        "rows_ingested": run.outcome.rows,
        "delta_version": run.version if run.version is not None else -1,
    }


def _gx_result(
    key: dg.AssetKey, check: str, failing: list[dict[str, object]], run: DeliveryRun, warn: bool
) -> dg.AssetCheckResult:
    frame = pl.DataFrame(failing) if failing else None
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check,
        passed=not failing,
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        metadata={
            "delivery": run.delivery_id,
            "validated": run.audit.delivery_id is not None,
            "failing": table_metadata(
                frame.select("check", "failing", "failing_share", "sample_keys", "detail")
            )
            if frame is not None
            else "none",
        },
    )


def _check_results(key: dg.AssetKey, run: DeliveryRun) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_ACCEPTED,
            passed=run.accepted,
            metadata={
                "delivery": run.delivery_id,
                "status": run.outcome.status,
                "reason": run.outcome.reason or "none",
            },
        ),
        _gx_result(key, CHECK_GX_BLOCKING, run.audit.failing("blocking"), run, warn=False),
        _gx_result(key, CHECK_GX_WARNINGS, run.audit.failing("warn"), run, warn=True),
    ]


def landing_sensor(
    catalogue: dict[str, Dataset], interval_seconds: int = 30
) -> dg.SensorDefinition:
    """Add each new delivery folder in landing as a partition and request its ingestion."""

    @dg.sensor(
        name="landing_sensor",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=[bronze_key(d) for d in catalogue.values()],
        description="Adds every delivery the ledger has not settled as a partition and requests its run.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lakehouse: LakehouseResource
    ) -> dg.SensorResult:
        env = lakehouse.env()
        additions: list[dg.AddDynamicPartitionsRequest] = []
        requests: list[dg.RunRequest] = []
        for dataset in catalogue.values():
            pending = pending_deliveries(env, dataset)
            if not pending:
                continue
            known = set(context.instance.get_dynamic_partitions(deliveries(dataset).name))
            new = [d for d in pending if d not in known]
            if new:
                additions.append(deliveries(dataset).build_add_request(new))
            requests.extend(
                dg.RunRequest(
                    run_key=f"{dataset.name}:{delivery_id}",
                    asset_selection=[bronze_key(dataset)],
                    partition_key=delivery_id,
                    tags={"dataset": dataset.name, "delivery": delivery_id},
                )
                for delivery_id in pending
            )
        return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=additions)

    return _sensor


def freshness_policy(dataset: Dataset) -> dg.FreshnessPolicy | None:
    """The `refresh` cron as a freshness policy: a delivery is due within one period of each tick.

    The daemon evaluates it and the UI shows a dataset whose delivery is late.
    """
    if dataset.refresh == "manual":
        return None
    return dg.FreshnessPolicy.cron(
        deadline_cron=dataset.refresh,
        lower_bound_delta=cron_period(dataset.refresh, dataset.timezone),
        timezone=dataset.timezone,
    )


def build_ingest_defs(catalogue: dict[str, Dataset], sensor_seconds: int = 30) -> dg.Definitions:
    """Everything the ingestion domain contributes, for any catalogue."""
    return dg.Definitions(
        assets=[ingestion_asset(d) for d in catalogue.values()],
        sensors=[landing_sensor(catalogue, sensor_seconds)],
    )
