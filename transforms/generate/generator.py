"""`generate_catalogue`: population -> every dataset's deliveries -> landing files + truth.

Landing layout: `landing_dir/<dataset>/<delivery_id>/<dataset>.<ext>`, delivery_id the ISO date.

Truth:
* `record_truth.parquet` - one row per record per delivery it is in: `record_key`
  (`<dataset>:<record id>`), the person behind it (for calls the caller, plus
  `callee_person_id`), that person's clean values *as at that delivery* (upper-case ASCII names,
  current family name, date of birth, current postcode), the E.164 phone the record carries,
  the record's `revision` (>0 for a feed re-delivery) and `noise`, the list of perturbations
  applied (e.g. `maiden_name`, `stale_address`, `typo_family_name`, and under the `hostile`
  profile `given_name_replaced`, `dob_digits_wrong` ...: see `profiles.py`), so a record showing
  a maiden name or an old address can be told apart from a wrong match;
* `people.parquet` - one row per person as at the first delivery (household, twin, previous
  family name and address, phones, e-mail, passport, nationality);
* `household_addresses.parquet` - each household's address and landline at every delivery.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa

from transforms.generate.contracts import Contract, load_contracts
from transforms.generate.datasets import BUILDERS
from transforms.generate.datasets.base import Context
from transforms.generate.deliveries import Delivery, iter_deliveries
from transforms.generate.population import World, build_world
from transforms.generate.profiles import get_profile
from transforms.generate.writers import ParquetAppender, conform, write_delivery, write_parquet
from transforms.storage import StoragePath, make_dirs, remove_tree, storage_path

TRUTH_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("dataset", pa.string()),
        ("delivery_id", pa.string()),
        ("person_id", pa.int64()),
        ("callee_person_id", pa.int64()),
        ("given_name", pa.string()),
        ("middle_names", pa.string()),
        ("family_name", pa.string()),
        ("date_of_birth", pa.date32()),
        ("postcode", pa.string()),
        ("phone", pa.string()),
        ("revision", pa.int64()),
        ("noise", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True)
class GenerationReport:
    """What was generated and how fast."""

    people: int
    seed: int
    deliveries: int
    rows: dict[tuple[str, str], int]  # (dataset, delivery_id) -> records
    total_records: int
    seconds: float
    records_per_second: float
    files: dict[tuple[str, str], StoragePath] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()  # catalogued datasets without a generator (real ones), sorted
    noise: str = "default"  # the noise profile (transforms.generate.profiles.PROFILES)


def generate_catalogue(
    catalogue_dir: Path,
    landing_dir: StoragePath | str,
    truth_dir: StoragePath | str,
    *,
    people: int = 10_000,
    seed: int = 42,
    deliveries: int = 1,
    start: date = date(2026, 10, 5),
    interval_days: int = 7,
    overwrite: bool = False,
    noise: str = "default",
) -> GenerationReport:
    """Generate the deliveries of every catalogued dataset that has a generator, and the truth.

    A catalogued dataset without a generator (a real one a steward has added) is skipped and
    named in the report's `skipped`; ValueError only if no catalogued dataset has a generator.
    Raises FileExistsError (before writing anything) if a delivery folder exists and
    `overwrite` is False: a delivery that may already have been ingested is never changed.
    `noise` names the error model (`transforms.generate.profiles.PROFILES`): `default` (each
    dataset's own noise) or `hostile` (plus whole-value corruption); ValueError naming the
    allowed profiles for any other name. The same seed and profile give the same bytes.
    """
    began = time.perf_counter()
    if people < 1 or deliveries < 1 or interval_days < 1:
        raise ValueError("people, deliveries and interval_days must be positive")
    profile = get_profile(noise)
    catalogued = load_contracts(Path(catalogue_dir))
    skipped = tuple(sorted(set(catalogued) - set(BUILDERS)))
    contracts = {name: c for name, c in catalogued.items() if name in BUILDERS}
    if not contracts:
        raise ValueError(f"no catalogued dataset has a synthetic generator: {list(skipped)}")
    dates = tuple(start + timedelta(days=k * interval_days) for k in range(deliveries))
    landing_dir, truth_dir = storage_path(landing_dir), storage_path(truth_dir)
    _refuse_existing(landing_dir, contracts, dates, overwrite)

    world = build_world(people, seed, list(dates))
    make_dirs(truth_dir)
    rows: dict[tuple[str, str], int] = {}
    files: dict[tuple[str, str], StoragePath] = {}
    # Files are written by one background thread, in order, while the next delivery is being
    # generated (pyarrow and polars release the GIL while writing). At most two deliveries are
    # in flight, which bounds memory.
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: list[Future[None]] = [
            writer.submit(write_parquet, _people_truth(world), truth_dir / "people.parquet"),
            writer.submit(
                write_parquet,
                world.household_addresses(),
                truth_dir / "household_addresses.parquet",
            ),
        ]
        truth = ParquetAppender(truth_dir / "record_truth.parquet", TRUTH_SCHEMA)
        try:
            # Delivery-major order: every dataset's delivery k, then k + 1, so the population's
            # view at k can be dropped once k is done (memory stays flat as deliveries grow).
            streams = {
                name: iter_deliveries(
                    Context(contracts[name], world, seed, dates, interval_days, profile),
                    BUILDERS[name],
                )
                for name in sorted(contracts)
            }
            for k, day in enumerate(dates):
                delivery_id = day.isoformat()
                for name, stream in streams.items():
                    contract = contracts[name]
                    delivery = next(stream)
                    records = conform(delivery.rendered.records, contract)
                    keys = _record_keys(records, contract)
                    if keys.is_duplicated().any():
                        raise AssertionError(f"{name} {delivery_id}: record ids are not unique")
                    path = _delivery_path(landing_dir, contract, delivery_id)
                    remove_tree(path.parent)  # exists only when overwrite=True
                    make_dirs(path.parent)
                    truth_rows = _truth(world, delivery, keys, name, delivery_id)
                    pending.append(
                        writer.submit(_write, records, contract, path, truth, truth_rows)
                    )
                    rows[(name, delivery_id)] = records.height
                    files[(name, delivery_id)] = path
                    while len(pending) > 2:
                        pending.pop(0).result()
                if k > 0:
                    world.release(k - 1)
            for job in pending:
                job.result()
        except BaseException:
            for job in pending:
                job.cancel()
            writer.shutdown(wait=True)
            truth.abort()  # never leave a truth file that does not match the landing files
            raise
        truth.close()

    seconds = time.perf_counter() - began
    total = sum(rows.values())
    return GenerationReport(
        people=people,
        seed=seed,
        deliveries=deliveries,
        rows=rows,
        total_records=total,
        seconds=seconds,
        records_per_second=total / seconds if seconds > 0 else float("inf"),
        files=files,
        skipped=skipped,
        noise=profile.name,
    )


def _write(
    records: pl.DataFrame,
    contract: Contract,
    path: StoragePath,
    truth: ParquetAppender,
    truth_rows: pl.DataFrame,
) -> None:
    write_delivery(records, contract, path)
    truth.append(truth_rows)


def _delivery_path(landing_dir: StoragePath, contract: Contract, delivery_id: str) -> StoragePath:
    return landing_dir / contract.name / delivery_id / f"{contract.name}.{contract.extension}"


def _refuse_existing(
    landing_dir: StoragePath,
    contracts: dict[str, Contract],
    dates: tuple[date, ...],
    overwrite: bool,
) -> None:
    if overwrite:
        return
    for name in sorted(contracts):
        for day in dates:
            folder = _delivery_path(landing_dir, contracts[name], day.isoformat()).parent
            if folder.exists():
                raise FileExistsError(
                    f"delivery folder {folder} already exists; it may have been ingested. "
                    "Pass overwrite=True to replace it."
                )


def _record_keys(records: pl.DataFrame, contract: Contract) -> pl.Series:
    """`<dataset>:<record id>`, a multi-column id joined with '|'."""
    return records.select(
        pl.concat_str(
            [
                pl.lit(f"{contract.name}:"),
                pl.concat_str([pl.col(c) for c in contract.record_id], separator="|"),
            ]
        ).alias("record_key")
    ).to_series()


def _truth(
    world: World, delivery: Delivery, keys: pl.Series, name: str, delivery_id: str
) -> pl.DataFrame:
    """Clean, pre-noise values of the person behind each record, as at that delivery."""
    r = delivery.rendered
    clean = world.state(delivery.k).select(
        "given_ascii", "middle_ascii", "family_ascii", "date_of_birth", "postcode"
    )[r.person_id.to_numpy()]
    callee = r.extra.get("callee_person_id", pl.Series([None] * len(keys), dtype=pl.Int64))
    return pl.DataFrame(
        {
            "record_key": keys,
            "dataset": pl.Series([name] * len(keys), dtype=pl.String),
            "delivery_id": pl.Series([delivery_id] * len(keys), dtype=pl.String),
            "person_id": r.person_id.cast(pl.Int64),
            "callee_person_id": callee.cast(pl.Int64),
            "given_name": clean["given_ascii"],
            "middle_names": clean["middle_ascii"],
            "family_name": clean["family_ascii"],
            "date_of_birth": clean["date_of_birth"],
            "postcode": clean["postcode"],
            "phone": r.phone.cast(pl.String),
            "revision": delivery.rows["revision"],
            "noise": r.noise,
        }
    )


def _people_truth(world: World) -> pl.DataFrame:
    """One row per person, as at the first delivery: clean values and hidden relationships."""
    s = world.state(0)
    return s.select(
        "person_id",
        "household_id",
        "household_role",
        pl.col("given_ascii").alias("given_name"),
        pl.col("middle_ascii").alias("middle_names"),
        pl.col("family_ascii").alias("family_name"),
        pl.col("previous_family_ascii").alias("previous_family_name"),
        pl.col("given_name").alias("given_name_native"),
        pl.col("family_name").alias("family_name_native"),
        "sex",
        "date_of_birth",
        "is_adult",
        "twin_of",
        pl.col("line_1").alias("address_line_1"),
        pl.col("flat").alias("address_flat"),
        "town",
        "postcode",
        pl.col("prev_line_1").alias("previous_address_line_1"),
        pl.col("prev_town").alias("previous_town"),
        pl.col("prev_postcode").alias("previous_postcode"),
        pl.col("mobile").alias("mobile_e164"),
        pl.col("landline").alias("landline_e164"),
        "email",
        "passport_number",
        "nationality",
        pl.col("csp_from").alias("mobile_network_from_delivery"),
    )
