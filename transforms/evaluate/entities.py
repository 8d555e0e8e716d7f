"""Entity-resolution accuracy against truth: pairwise precision, recall, F1 and cluster metrics.

Pair counts come from group sizes (n choose 2), so no pair table is ever materialised.
"""

from __future__ import annotations

import polars as pl

from transforms.storage import StoragePath, read_parquet


def _pairs(sizes: pl.Expr) -> pl.Expr:
    return (sizes * (sizes - 1) / 2).sum()


def pairwise_agreement(
    predicted: pl.DataFrame, reference: pl.DataFrame
) -> tuple[float, float, float, int, int]:
    """Pairwise precision, recall and F1 of one clustering against another, and their pair counts.

    Both frames hold `record_key` and `cluster`; only records both know are compared.
    """
    joined = predicted.select("record_key", pl.col("cluster").alias("p")).join(
        reference.select("record_key", pl.col("cluster").alias("r")), on="record_key"
    )
    found = joined.group_by("p").len().select(_pairs(pl.col("len"))).item() or 0
    expected = joined.group_by("r").len().select(_pairs(pl.col("len"))).item() or 0
    agreed = joined.group_by("p", "r").len().select(_pairs(pl.col("len"))).item() or 0
    precision = agreed / found if found else 1.0
    recall = agreed / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, int(found), int(expected)


def er_evaluation(truth_dir: StoragePath, entity_records: pl.DataFrame) -> dict[str, float | int]:
    """Compare predicted entities with true persons for every record both know."""
    records = entity_records.select("record_key", "entity_id")
    truth = (  # each record's latest truth, of the records gold holds only (the sort is the cost)
        read_parquet(
            truth_dir / "record_truth.parquet", columns=["record_key", "delivery_id", "person_id"]
        )
        .join(records.select("record_key"), on="record_key", how="semi")
        .sort("delivery_id")
        .unique("record_key", keep="last")
    )
    joined = records.join(truth, on="record_key")
    precision, recall, f1, predicted, actual = pairwise_agreement(
        joined.select("record_key", pl.col("entity_id").alias("cluster")),
        joined.select("record_key", pl.col("person_id").alias("cluster")),
    )
    persons = joined.group_by("person_id").agg(pl.col("entity_id").n_unique().alias("entities"))
    entities = joined.group_by("entity_id").agg(pl.col("person_id").n_unique().alias("persons"))
    exact = (
        joined.group_by("person_id")
        .agg(pl.col("entity_id").first(), pl.len().alias("n"))
        .join(joined.group_by("entity_id").len("m"), on="entity_id")
        .filter(pl.col("n") == pl.col("m"))
    )
    exact = exact.join(entities.filter(pl.col("persons") == 1), on="entity_id")
    return {
        "records": joined.height,
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(f1, 4),
        "true_pairs": int(actual),
        "predicted_pairs": int(predicted),
        "entities": entities.height,
        "true_persons": persons.height,
        "pure_entity_share": round(float((entities["persons"] == 1).mean() or 0.0), 4),
        "unsplit_person_share": round(float((persons["entities"] == 1).mean() or 0.0), 4),
        "exact_cluster_share": round(exact.height / max(persons.height, 1), 4),
    }
