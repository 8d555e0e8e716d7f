"""Authorisation: per dataset its panel reference, expiry and days left; the gate's refusals.

The ingestion gate (`transforms.ingest.pipeline.check_authorisation`) refuses a dataset without a
current authorisation *before* anything is read or recorded, so its refusals are not rows of
`ops.deliveries`: they are the deliveries waiting in landing, unsettled, for a dataset whose
authorisation is not current. Deliveries the ledger rejected (validation) are listed beside them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, read_ops, rows
from transforms.ingest import ledger
from transforms.ingest.delivery import delivery_folders
from transforms.ingest.pipeline import ledger_path

EXPIRY_WARNING_DAYS = 60


def status(dataset: Dataset, today: date) -> str:
    auth = dataset.authorisation
    if auth is None:
        return "none"
    if today < auth.approved_on:
        return "not yet in force"
    if today > auth.expires_on:
        return "expired"
    return "current"


def authorisation_section(
    env: Environment, catalogue: dict[str, Dataset], period: Period, today: date
) -> dict[str, Any]:
    """Each dataset's authorisation, those expiring soon, and deliveries the gate refuses."""
    settled = ledger.read(ledger_path(env))
    datasets, refused = [], []
    for dataset in catalogue.values():
        auth = dataset.authorisation
        days_left = None if auth is None else (auth.expires_on - today).days
        state = status(dataset, today)
        datasets.append(
            {
                "dataset": dataset.name,
                "classification": dataset.classification,
                "reference": None if auth is None else auth.reference,
                "approved_on": None if auth is None else auth.approved_on.isoformat(),
                "expires_on": None if auth is None else auth.expires_on.isoformat(),
                "days_left": days_left,
                "status": state,
                "expiring_soon": days_left is not None and 0 <= days_left <= EXPIRY_WARNING_DAYS,
            }
        )
        if state != "current":
            done = set(
                settled.filter(
                    (pl.col("dataset") == dataset.name)
                    & pl.col("status").is_in(["ingested", "duplicate"])
                )["delivery_id"].to_list()
            )
            refused += [
                {"dataset": dataset.name, "delivery_id": f.name, "authorisation": state}
                for f in delivery_folders(env, dataset)
                if f.name not in done
            ]
    rejected = in_period(read_ops(env, "ops.deliveries", "recorded_at"), "recorded_at", period)
    return {
        "today": today.isoformat(),
        "warning_days": EXPIRY_WARNING_DAYS,
        "datasets": datasets,
        "expiring_soon": [d["dataset"] for d in datasets if d["expiring_soon"]],
        "not_current": [d["dataset"] for d in datasets if d["status"] != "current"],
        "refused_by_gate": refused,
        "rejected_deliveries": rows(
            rejected.filter(pl.col("status") == "rejected").select(
                "recorded_at", "dataset", "delivery_id", "reason"
            )
        )
        if not rejected.is_empty()
        else [],
    }
