"""One ingestion pathway for every catalogue dataset: landing delivery -> bronze Delta table."""

from transforms.ingest.errors import AuthorisationError, DeliveryRejected
from transforms.ingest.pipeline import (
    IngestOutcome,
    IngestSummary,
    ingest_dataset,
    pending_deliveries,
)

__all__ = [
    "AuthorisationError",
    "DeliveryRejected",
    "IngestOutcome",
    "IngestSummary",
    "ingest_dataset",
    "pending_deliveries",
]
