"""Rejected deliveries as a validation outcome, so Data Docs show them beside the GX suites.

A rejected delivery never reaches Great Expectations (it is refused before any write), yet
stewards look for it in the same place as every other failure.
"""

from __future__ import annotations

import polars as pl

from transforms.config import Environment
from transforms.ingest import ledger
from transforms.ingest.pipeline import ledger_path
from transforms.quality.validate import ValidationOutcome


def outstanding_rejections(env: Environment) -> pl.DataFrame:
    """Rejected deliveries not since re-delivered and settled."""
    book = ledger.read(ledger_path(env))
    settled = book.filter(pl.col("status") != "rejected").select("dataset", "delivery_id")
    return book.filter(pl.col("status") == "rejected").join(
        settled, on=["dataset", "delivery_id"], how="anti"
    )


def delivery_outcome(env: Environment) -> ValidationOutcome:
    """One 'ingestion contract' result per rejected delivery (or one passing result when none)."""
    rejected = outstanding_rejections(env)
    results = [
        {
            "expectation_type": "delivery_accepted",
            "column": None,
            "severity": "blocking",
            "family": "schema",
            "success": False,
            "unexpected_count": None,
            "unexpected_share": None,
            "sample_keys": [f"{dataset}/{delivery}"],
            "sample_values": [reason],
            "description": f"delivery {delivery} of {dataset} was quarantined",
            "detail": f"see {env.quarantine / dataset / delivery / 'reason.json'}",
        }
        for dataset, delivery, reason in rejected.select(
            "dataset", "delivery_id", "reason"
        ).iter_rows()
    ] or [
        {
            "expectation_type": "delivery_accepted",
            "column": None,
            "severity": "blocking",
            "family": "schema",
            "success": True,
            "unexpected_count": 0,
            "unexpected_share": 0.0,
            "sample_keys": [],
            "description": "every delivery was accepted",
        }
    ]
    return ValidationOutcome(
        suite="ingestion.deliveries",
        success=rejected.height == 0,
        blocking_failures=[r for r in results if not r["success"]],
        warnings=[],
        results=results,
        raw={},
        rows=len(results),
    )
