"""Errors of the ingestion pathway, each carrying what a steward needs to fix the input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date


class AuthorisationError(RuntimeError):
    """The dataset has no current authorisation, so it must not be read at all."""

    def __init__(self, dataset: str, reference: str | None, expires_on: date | None, today: date):
        self.dataset, self.reference, self.expires_on = dataset, reference, expires_on
        if reference is None:
            message = f"dataset {dataset!r} has no recorded authorisation; it is not read"
        elif expires_on is not None and expires_on < today:
            message = (
                f"dataset {dataset!r}: authorisation {reference} expired on "
                f"{expires_on.isoformat()}; it is not read"
            )
        else:
            message = f"dataset {dataset!r}: authorisation {reference} is not yet in force"
        super().__init__(message)


@dataclass
class DeliveryRejected(Exception):
    """A delivery failed validation; names the file, the row and the field."""

    file: str
    problem: str
    expected: str
    row: int | None = None
    field: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field {self.field!r}"
        found = f"; found {self.found}" if self.found is not None else ""
        return f"{where}: {self.problem} (expected {self.expected}{found})"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "message": str(self)}
