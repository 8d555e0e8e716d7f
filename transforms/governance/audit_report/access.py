"""Security and access: requests per user, purpose and task; refusals by reason; reads attempted
above a user's clearance; classification changes.

Read from `ops.audit_log` (one row per governed request, allowed, refused or failed) and
`ops.reclassifications`. A refusal's reason is the one line the user was shown; it is put in a
category by the wording of the refusing code (transforms/governance/sql.py, access.py, tasks.py).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, read_ops, rows
from transforms.users import load_users

AUDIT_LOG = "ops.audit_log"
RECLASSIFICATIONS = "ops.reclassifications"
ABOVE_CLEARANCE = "above clearance"
NOT_VISIBLE = "entity not visible"
# (category, pattern on the reason), first match wins.
REFUSAL_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (ABOVE_CLEARANCE, re.compile(r"above \S+(?: \S+)?'s clearance|above .*clearance", re.I)),
    (NOT_VISIBLE, re.compile(r"no entity \S+ visible", re.I)),
    ("no task named", re.compile(r"--task REF is required", re.I)),
    ("task unknown, closed or not covering", re.compile(r"\btask\b", re.I)),
    ("no purpose", re.compile(r"purpose", re.I)),
    ("unknown user", re.compile(r"unknown user", re.I)),
    ("role", re.compile(r" is for .*s; ", re.I)),
    ("unknown table or version", re.compile(r"unknown table|did not exist|version", re.I)),
    ("not a read-only query", re.compile(r"read-only|statement|not valid SQL|not allowed", re.I)),
)


def refusal_category(reason: str | None) -> str:
    """The category of a refusal's reason ("other" when no pattern matches)."""
    text = reason or ""
    return next((name for name, pattern in REFUSAL_CATEGORIES if pattern.search(text)), "other")


def audit_rows(env: Environment, period: Period) -> pl.DataFrame:
    """The period's `ops.audit_log` rows (empty when there is no log)."""
    return in_period(read_ops(env, AUDIT_LOG, "at"), "at", period)


def access_section(
    env: Environment, period: Period, log: pl.DataFrame | None = None
) -> dict[str, Any]:
    """The period's governed requests, refusals and reclassifications."""
    log = audit_rows(env, period) if log is None else log
    if log.is_empty():
        log = pl.DataFrame(
            schema={
                "at": pl.Datetime("us", "UTC"),
                "user": pl.String,
                "purpose": pl.String,
                "task": pl.String,
                "action": pl.String,
                "outcome": pl.String,
                "reason": pl.String,
                "rows": pl.Int64,
                "tables": pl.List(pl.String),
            }
        )
    if "task" not in log.columns:
        log = log.with_columns(pl.lit(None, pl.String).alias("task"))
    clearance = {u.name: u.clearance for u in load_users(env.catalogue_dir).values()}
    refused = log.filter(pl.col("outcome") == "refused").with_columns(
        pl.col("reason").map_elements(refusal_category, return_dtype=pl.String).alias("category")
    )
    above = refused.filter(pl.col("category").is_in([ABOVE_CLEARANCE, NOT_VISIBLE]))
    return {
        "requests": log.height,
        "queries": log.filter(pl.col("action") == "sql").height,
        "searches": log.filter(pl.col("action") == "search").height,
        "by_user_purpose_task": rows(_by_user(log)),
        "refusals": refused.height,
        "refusals_by_reason": rows(
            refused.group_by("category")
            .agg(pl.len().alias("refusals"), pl.col("reason").first().alias("example"))
            .sort("refusals", "category", descending=[True, False])
        ),
        "above_clearance_attempts": rows(
            above.select(
                "at",
                "user",
                pl.col("user").replace_strict(clearance, default=None).alias("clearance"),
                "action",
                "task",
                "tables",
                "category",
                "reason",
            )
        ),
        "reclassifications": rows(in_period(read_ops(env, RECLASSIFICATIONS, "at"), "at", period)),
    }


def _by_user(log: pl.DataFrame) -> pl.DataFrame:
    outcome = pl.col("outcome")
    return (
        log.group_by("user", "purpose", "task", maintain_order=True)
        .agg(
            (pl.col("action") == "sql").sum().alias("queries"),
            (pl.col("action") == "search").sum().alias("searches"),
            (~pl.col("action").is_in(["sql", "search"])).sum().alias("other"),
            (outcome == "allowed").sum().alias("allowed"),
            (outcome == "refused").sum().alias("refused"),
            (outcome == "error").sum().alias("errors"),
            pl.col("rows").sum().alias("rows_returned"),
        )
        .sort("user", "purpose", "task", nulls_last=True)
    )
