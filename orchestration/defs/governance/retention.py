"""The daily retention job: destroy records older than their dataset's `retention_days`."""

import dagster as dg

from orchestration.resources import LakehouseResource
from transforms.governance.destruction import apply_retention


@dg.op(
    description="Destroys bronze rows older than each dataset's retention_days, everywhere, with certificates."
)
def apply_retention_op(context: dg.OpExecutionContext, lakehouse: LakehouseResource) -> None:
    certificates = apply_retention(lakehouse.env())
    for certificate in certificates:
        context.log.info(
            f"{certificate.dataset}: {certificate.scope}: {sum(certificate.log.rows.values())} rows destroyed "
            f"(certificate {certificate.destruction_id})"
        )


@dg.job(name="retention", description="Retention and destruction, daily.")
def retention_job() -> None:
    apply_retention_op()


retention_schedule = dg.ScheduleDefinition(
    name="retention_daily",
    cron_schedule="30 1 * * *",
    job=retention_job,
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night: records past their dataset's retention_days are destroyed and purged.",
)
