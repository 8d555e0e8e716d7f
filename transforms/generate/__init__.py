"""Synthetic bulk-data generator: messy deliveries for every catalogued dataset, plus truth.

    from transforms.generate import generate_catalogue
    report = generate_catalogue(Path("catalogue"), Path(".lakehouse/landing"),
                                Path(".lakehouse/truth"), people=10_000, seed=42)

Modules, one job each: `names` (reference data), `rand` (seeded and counter-based randomness),
`population` (people, households, moves), `noise` (vectorised perturbations), `formats` (how
values are written), `datasets/` (one builder per dataset), `deliveries` (cut/feed mechanics),
`writers` (CSV/JSONL/Parquet), `generator` (the public entry point).
"""

from transforms.generate.generator import GenerationReport, generate_catalogue

__all__ = ["GenerationReport", "generate_catalogue"]
