"""The builder registry: one module per dataset, keyed by the catalogue's dataset name.

Every dataset-specific choice (coverage, formats, noise rates, what a re-delivery changes) lives
in that dataset's module; nothing outside this package special-cases a dataset.
"""

from __future__ import annotations

from transforms.generate.datasets import (
    call_detail_records,
    company_officers,
    electoral_roll,
    rocu_nominals,
    subscriber_records,
    telephone_directory,
    travel_manifests,
    vehicle_keepers,
)
from transforms.generate.datasets.base import Builder

BUILDERS: dict[str, Builder] = {
    "electoral_roll": electoral_roll.BUILDER,
    "telephone_directory": telephone_directory.BUILDER,
    "travel_manifests": travel_manifests.BUILDER,
    "company_officers": company_officers.BUILDER,
    "vehicle_keepers": vehicle_keepers.BUILDER,
    "subscriber_records": subscriber_records.BUILDER,
    "call_detail_records": call_detail_records.BUILDER,
    "rocu_nominals": rocu_nominals.BUILDER,
}

__all__ = ["BUILDERS", "Builder"]
