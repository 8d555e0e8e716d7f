"""Build the Splink input again only for records whose silver rows changed.

`person_features` reads, for each record, its person row and its address, identifier and
document rows (generic values already removed). A fingerprint of exactly those rows, the
*input hash*, is published beside each record's features in `ops.er_features`. The next run
hashes the current rows (cheap: one hash per row, one XOR per record) and builds features only
for records whose hash differs from the published one; the others are read back as published.
Because a hash and the features it was taken over are published in one row, the reuse is exact
whatever happened in between (a killed run, a destruction, a generic value that became generic:
its holders' kept rows change, so their hashes do).

The hash seed carries `FEATURE_LOGIC` and the versions of the libraries the features depend
on, so a change of either builds every record again.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version

import polars as pl

from transforms.resolve.features import FEATURE_COLUMNS, INPUT_COLUMNS, person_features

FEATURES_TABLE = "ops.er_features"
KEY = "record_key"
INPUT_HASH = "input_hash"
FEATURE_LOGIC = "1"  # raise when person_features builds something else from the same rows


def _seed() -> int:
    """A seed that changes when the feature logic or a library it uses changes."""
    parts = [FEATURE_LOGIC, *(version(p) for p in ("polars", "nicknames", "phonenumbers"))]
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:15], 16)


def input_hashes(
    persons: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
) -> pl.DataFrame:
    """record_key, input_hash: a fingerprint of the rows `person_features` reads per record.

    Only the columns it reads are hashed (`INPUT_COLUMNS`), so a change of lineage (a cut
    delivered again) builds nothing. Rows are a set (features take unique values): each
    distinct row's hash is XORed into its record's.
    """
    seed = _seed()
    frames = (persons, addresses, identifiers, documents)
    hashed = pl.concat(
        [
            frame.select(
                KEY, pl.struct(list(columns)).hash(seed=seed + table).alias(INPUT_HASH)
            ).unique()
            for table, (frame, columns) in enumerate(zip(frames, INPUT_COLUMNS, strict=True))
        ]
    )
    folded = hashed.group_by(KEY).agg(pl.col(INPUT_HASH).bitwise_xor())
    return (
        persons.select(KEY)
        .join(folded, on=KEY, how="left")
        .with_columns(pl.col(INPUT_HASH).cast(pl.String))
    )


def reusable_features(
    published: pl.DataFrame | None,
    persons: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, set[str] | None]:
    """The Splink input, its input hashes, and the records whose published row must change.

    `published` is `ops.er_features` as stored (None, or written before input hashes: every
    record is built, and the third result is None, so the table is written whole). Otherwise the
    third result names the records built again and the published rows of records gone.
    """
    hashes = input_hashes(persons, addresses, identifiers, documents)
    if published is None or INPUT_HASH not in published.columns:
        return person_features(persons, addresses, identifiers, documents), hashes, None
    same = published.join(hashes, on=[KEY, INPUT_HASH], how="semi")
    stale = hashes.join(same.select(KEY), on=KEY, how="anti").select(KEY)
    gone = published.select(KEY).join(hashes.select(KEY), on=KEY, how="anti")
    fresh = person_features(
        *(
            frame.join(stale, on=KEY, how="semi")
            for frame in (persons, addresses, identifiers, documents)
        )
    )
    reused = same.rename({KEY: "unique_id"}).select(FEATURE_COLUMNS)
    features = pl.concat([reused, fresh.cast(reused.schema)]).sort("unique_id")
    changed = set(stale[KEY].to_list()) | set(gone[KEY].to_list())
    return features, hashes, changed
