"""Audited bulk search: the only way a caller should search (SCHEMA.md §5, `lakehouse search`).

`audited_search` checks the request (a task, a purpose, a known user), matches the subjects
(`transforms.resolve.search`), withholds what is above the user's clearance (`clearance`),
counts what was found and logs it in `ops.search_log` and `ops.audit_log`, and the entities the
user was shown in `ops.search_matches` (`search_ledger`).
A refused request raises before anything is searched or logged.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Environment
from transforms.governance.clearance import restrict_for
from transforms.governance.search_ledger import (
    MONTHLY_TABLE,
    SEARCHED_TABLES,
    audit_search,
    log_search,
)
from transforms.governance.tasks import TaskRefused, require_open_task
from transforms.resolve.search import SearchCounts, counts, read_subjects, search
from transforms.users import UnknownUser, get_user


class SearchRefused(ValueError):
    """The request cannot be searched as given (no task or no purpose); nothing was logged."""


@dataclass(frozen=True)
class SearchOutcome:
    """One audited search: what the user may see and the figures logged for it."""

    search_id: str
    task: str
    user: str
    visible: pl.DataFrame  # RESULT_SCHEMA rows within the user's clearance
    withheld: int  # matched entities above the clearance
    found: SearchCounts  # before the clearance filter: what the ledger counts
    shown: SearchCounts  # after it: what the user sees
    seconds: float
    warning: str | None = None  # the search was logged, but its warehouse copy lags

    @property
    def summary(self) -> str:
        """One line: subjects, matched, withheld, links and seconds (what the user is shown)."""
        return (
            f"search {self.search_id}: {self.shown.subjects} subjects, {self.shown.matched} "
            f"matched, {self.withheld} withheld, {self.shown.links} links, {self.seconds:.2f}s"
        )


def audited_search(
    env: Environment,
    subjects_path: Path,
    *,
    task: str,
    user: str,
    purpose: str,
    search_id: str | None = None,
) -> SearchOutcome:
    """Validate, search, restrict to the user's clearance, count and log one bulk search.

    Raises `SearchRefused` (no task or purpose), `UnknownUser`, `CatalogueError`, `ValueError`
    (an unusable subjects file), `NoApprovedModel` or `TableNotFound` before anything is logged.
    The matches the user was shown are written first, then the ledger row (`log_search`); when
    only the warehouse copy of the monthly figures fails, the outcome carries a `warning`.
    """
    task, purpose = task.strip(), purpose.strip()
    try:
        if not purpose:
            raise SearchRefused("--purpose must say why the search is necessary")
        try:
            require_open_task(env, task, SEARCHED_TABLES)
        except TaskRefused as exc:
            raise SearchRefused(str(exc)) from exc
        searcher = get_user(env.catalogue_dir, user)
    except (SearchRefused, UnknownUser) as exc:  # refused before anything is searched: audited
        audit_search(env, task, user, purpose, "refused", reason=str(exc))
        raise
    started = time.perf_counter()
    results = search(env, read_subjects(subjects_path))
    visible, withheld = restrict_for(env, results, searcher.clearance)
    seconds = time.perf_counter() - started
    found, shown = counts(results), counts(visible)
    search_id = search_id or uuid.uuid4().hex
    warning = None
    try:
        log_search(
            env,
            task,
            searcher.name,
            purpose,
            found.subjects,
            found.matched,
            found.links,
            seconds,
            search_id,
            shown=visible,
        )
    except duckdb.Error as exc:  # the Delta ledger row is written first; only the SQL copy lags
        warning = f"gold.{MONTHLY_TABLE} not refreshed: {exc}"
    return SearchOutcome(
        search_id, task, searcher.name, visible, withheld, found, shown, seconds, warning
    )
