"""Entity resolution end to end on a small synthetic catalogue (real Splink, Delta, DuckDB)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import copy_lakehouse
from tests.pipeline import run_everything
from transforms.config import Environment
from transforms.delta_io import history, read_table
from transforms.evaluate.entities import er_evaluation
from transforms.generate import generate_catalogue
from transforms.resolve.config import load_resolution_config
from transforms.resolve.dashboards import make_self_contained, remote_references
from transforms.resolve.feature_inputs import input_hashes
from transforms.resolve.feature_store import FEATURES_TABLE, published_features
from transforms.resolve.pipeline import resolve, silver_features, silver_inputs
from transforms.resolve.registry import approved_model, registry
from transforms.resolve.training import TrainingError, train_model

pytestmark = pytest.mark.slow


IDENTIFIER_SCHEMA = {"record_key": pl.String, "identifier_type": pl.String, "identifier": pl.String}
DOCUMENT_SCHEMA = {
    "record_key": pl.String,
    "document_type": pl.String,
    "document_number": pl.String,
}


def _persons(
    keys: list[str], datasets: list[str], *, given_name: list[str], family_name: list[str]
) -> pl.DataFrame:
    """Silver person rows with names only (no middle names, no date of birth)."""
    n = len(keys)
    return pl.DataFrame(
        {
            "record_key": keys,
            "source_dataset": datasets,
            "classification": ["OFFICIAL"] * n,
            "given_name": given_name,
            "middle_names": [None] * n,
            "family_name": family_name,
            "date_of_birth": [None] * n,
            "birth_year": [None] * n,
        },
        schema_overrides={
            "middle_names": pl.String,
            "date_of_birth": pl.Date,
            "birth_year": pl.Int64,
        },
    )


def _partition(records: pl.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["record_key"]) for _, g in records.group_by("entity_id")}


def test_clusters_match_truth_above_floor(built: Environment) -> None:
    metrics = er_evaluation(built.truth, read_table(built, "gold.entity_records"))
    assert metrics["pairwise_precision"] >= 0.98
    assert metrics["pairwise_f1"] >= load_resolution_config(built.catalogue_dir).f1_floor
    stored = read_table(built, "ops.er_evaluations")
    assert stored["pairwise_f1"][-1] == metrics["pairwise_f1"]


def test_gold_tables_follow_the_schema(built: Environment) -> None:
    entities = read_table(built, "gold.entities")
    records = read_table(built, "gold.entity_records")
    links = read_table(built, "gold.entity_links")
    assert {
        "entity_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "record_count",
        "datasets",
        "classification",
    } <= set(entities.columns)
    assert {"entity_id", "record_key", "source_dataset", "cluster_match_probability"} <= set(
        records.columns
    )
    assert {
        "entity_id_a",
        "entity_id_b",
        "link_type",
        "weight",
        "evidence",
        "classification",
    } <= set(links.columns)
    assert entities["entity_id"].is_unique().all() and records["record_key"].is_unique().all()
    persons = read_table(built, "silver.person_records")
    assert set(records["record_key"]) == set(persons["record_key"])
    assert entities["record_count"].sum() == records.height
    assert set(links["link_type"]) <= {"shared_address", "shared_phone", "called"}
    assert "called" in set(links["link_type"]) and "shared_address" in set(links["link_type"])
    assert (links["entity_id_a"] != links["entity_id_b"]).all()


def test_gold_is_queryable_in_the_warehouse_with_evidence(built: Environment) -> None:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        entity = (
            con.sql(
                "select entity_id from gold.entities where record_count >= 3 order by entity_id limit 1"
            )
            .to_arrow_table()
            .column(0)[0]
            .as_py()
        )
        evidence = pl.from_arrow(
            con.execute(
                "select * from gold.entity_evidence where entity_id_l = ? and same_entity", [entity]
            ).to_arrow_table()
        )
    finally:
        con.close()
    assert evidence.height >= 1
    weights = [c for c in evidence.columns if c.startswith("mw_")]
    assert {
        "mw_given_name",
        "mw_family_name",
        "mw_date_of_birth",
        "mw_address",  # postcode, house number and street, town: one comparison
        "mw_phones",
        "mw_documents",
        "mw_emails",
    } <= set(weights)
    assert (evidence["match_probability"] >= 0.5).all()


def test_rerun_keeps_every_entity_id(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)
    before = read_table(env, "gold.entity_records")
    result = resolve(env, load_resolution_config(env.catalogue_dir))
    assert result.scored.mode == "incremental" and result.scored.rescored_records == 0
    after = result.tables["entity_records"]
    assert (
        before.select("entity_id", "record_key")
        .sort("record_key")
        .equals(after.select("entity_id", "record_key").sort("record_key"))
    )
    assert result.changes.height == 0


def _second_delivery(env: Environment, tmp_path: Path) -> None:
    """Generate two deliveries elsewhere and land only the second (as a partner would)."""
    staging = tmp_path / "staging"
    generate_catalogue(
        env.catalogue_dir, staging / "landing", staging / "truth", people=600, seed=7, deliveries=2
    )
    for folder in sorted((staging / "landing").glob("*/*")):
        target = env.landing / folder.parent.name / folder.name
        if not target.exists():
            shutil.copytree(folder, target)
    shutil.copy2(staging / "truth" / "record_truth.parquet", env.truth / "record_truth.parquet")


def test_new_delivery_incremental_equals_full_rebuild_and_ids_stay(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)
    before = read_table(env, "gold.entity_records")
    _second_delivery(env, tmp_path)
    report = run_everything(env)
    assert report.success, report.failures

    incremental = read_table(env, "gold.entity_records")
    last_changes = read_table(env, "ops.entity_id_changes")
    # ops.er_features took only the records whose features changed, and equals silver's input.
    assert history(env.table_path(FEATURES_TABLE))[0]["operation"] == "MERGE"
    assert published_features(env).equals(silver_features(env)[0])  # type: ignore[union-attr]
    stored = read_table(env, FEATURES_TABLE).select("record_key", "input_hash").sort("record_key")
    assert stored.equals(input_hashes(*silver_inputs(env)[0]).sort("record_key"))
    # A routine run trains nothing (silver grew by less than retrain.record_growth): the
    # approved model scores the new delivery.
    assert len(registry(env).filter(pl.col("event") == "trained")) == 1
    assert approved_model(env).version == 1
    full = resolve(env, load_resolution_config(env.catalogue_dir), full_rebuild=True)
    assert full.scored.mode == "full"
    assert _partition(incremental) == _partition(full.tables["entity_records"])

    kept = before.join(incremental, on="record_key", suffix="_now")
    assert (kept["entity_id"] == kept["entity_id_now"]).mean() >= 0.95
    assert set(last_changes["change"].unique()) <= {"created", "merged", "split", "retired"}


def test_full_rebuild_is_deterministic(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)
    config = load_resolution_config(env.catalogue_dir)
    first = resolve(env, config, full_rebuild=True).tables["entity_records"]
    second = resolve(env, config, full_rebuild=True).tables["entity_records"]
    assert first.select("entity_id", "record_key").equals(second.select("entity_id", "record_key"))


def test_dashboards_are_written_and_load_nothing_remote(built: Environment) -> None:
    pages = sorted((built.reports / "er").glob("*.html"))
    assert [p.name for p in pages] == ["cluster_studio.html", "comparison_viewer.html"]
    for page in pages:
        assert remote_references(page.read_text()) == []


def test_remote_reference_scanner_catches_cdn_loads() -> None:
    html = '<script src="https://cdn.example/x.js"></script><link href="//fonts.example/f.css">'
    assert len(remote_references(html)) == 2
    assert (
        make_self_contained('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>x')
        == "x"
    )


def test_too_few_records_to_train_give_a_clear_error(built: Environment) -> None:
    """EM blocked on names needs records sharing a name; without any the error says what to do."""
    features, _ = silver_features(built)
    config = load_resolution_config(built.catalogue_dir)
    no_shared_names = features.unique(["given_name", "family_name"], keep="first").sort("unique_id")
    with pytest.raises(TrainingError, match="too few records share those values"):
        train_model(built, no_shared_names, config)


def test_fields_a_record_lacks_are_no_evidence_against(built: Environment) -> None:
    """Address parts, e-mail and phones of another kind fall in Splink's null level."""
    from transforms.resolve.clustering import COMPONENT
    from transforms.resolve.features import person_features
    from transforms.resolve.scoring import component_scorer

    persons = _persons(
        ["a", "b", "c"],
        ["electoral_roll", "telephone_directory", "subscriber_records"],
        given_name=["JOHN", "J", "JOHN"],
        family_name=["SMITH"] * 3,
    )
    addresses = pl.DataFrame(
        {
            "record_key": ["a", "b"],
            "address_line": ["12 HIGH STREET FLAT 2", None],
            "town": ["LEEDS", "LEEDS"],
            "postcode": ["LS1 4AB", None],
        }
    )
    identifiers = pl.DataFrame(
        {
            "record_key": ["b", "c", "c"],
            "identifier_type": ["phone", "phone", "email"],
            "identifier": ["+441132496000", "+447911123456", "John.Smith@example.org"],
        }
    )
    documents = pl.DataFrame(schema=DOCUMENT_SCHEMA)
    features = person_features(persons, addresses, identifiers, documents)
    a = features.row(0, named=True)
    assert a["address_keys"] == ["12 HIGH STREET"] and a["streets"] == ["HIGH STREET"]
    assert features["emails"].to_list() == [None, None, ["john.smith@example.org"]]
    assert features["phone_kinds"].to_list() == [None, ["fixed"], ["mobile"]]
    scored = component_scorer(built, approved_model(built))(
        features.with_columns(pl.lit("one").alias(COMPONENT))
    )
    gammas = {
        (row["unique_id_l"], row["unique_id_r"]): row
        for row in scored.select("unique_id_l", "unique_id_r", pl.col("^gamma_.*$")).to_dicts()
    }
    assert gammas[("a", "b")]["gamma_address"] > 0  # the town agrees; the rest is unknown
    assert gammas[("a", "c")]["gamma_address"] == -1  # c carries no address at all
    assert gammas[("b", "c")]["gamma_phones"] == -1  # a landline and a mobile: no evidence
    assert gammas[("a", "c")]["gamma_emails"] == -1


def test_family_name_and_shared_address_are_one_piece_of_evidence(built: Environment) -> None:
    """At a shared dwelling the family name is weighed with the address, not again on its own;
    a town that is all one record gives is its own level, apart from full addresses that differ
    but for their town."""
    from transforms.resolve.clustering import COMPONENT
    from transforms.resolve.features import person_features
    from transforms.resolve.scoring import component_scorer

    persons = _persons(
        ["a", "b", "c", "d", "e"],
        ["electoral_roll"] * 4 + ["vehicle_keepers"],
        given_name=["ANTHONY", "ABIGAIL", "ANTHONY", "ANTHONY", "ANTHONY"],
        family_name=["THOMAS", "THOMAS", "JONES", "THOMAS", "THOMAS"],
    )
    addresses = pl.DataFrame(
        {
            "record_key": ["a", "b", "c", "d", "e"],
            "address_line": [
                "12 HIGH STREET",
                "12 HIGH STREET",
                "12 HIGH STREET",
                None,
                "3 MILL LANE",
            ],
            "town": ["LEEDS"] * 5,
            "postcode": ["LS1 4AB", "LS1 4AB", "LS1 4AB", None, "LS6 2QT"],
        }
    )
    identifiers = pl.DataFrame(schema=IDENTIFIER_SCHEMA)
    documents = pl.DataFrame(schema=DOCUMENT_SCHEMA)
    features = person_features(persons, addresses, identifiers, documents)
    scored = component_scorer(built, approved_model(built))(
        features.with_columns(pl.lit("one").alias(COMPONENT))
    )
    rows = {(r["unique_id_l"], r["unique_id_r"]): r for r in scored.to_dicts()}
    levels = {
        c["output_column_name"]: [lv.get("label_for_charts") for lv in c["comparison_levels"]]
        for c in approved_model(built).settings()["comparisons"]  # type: ignore[union-attr]
    }

    def level(pair: tuple[str, str], comparison: str) -> str | None:
        gamma = rows[pair][f"gamma_{comparison}"]
        labels = [lv for lv in levels[comparison] if lv != levels[comparison][0]]
        return None if gamma == -1 else labels[len(labels) - 1 - gamma]

    household = ("a", "b")  # one family name, one address: the address comparison weighs both
    assert rows[household]["gamma_family_name"] == -1
    assert (
        level(household, "address") == "Postcode, house number and street agree, family names agree"
    )
    assert (
        level(("a", "c"), "address")
        == "Postcode, house number and street agree, family names differ"
    )
    assert rows[("a", "c")]["gamma_family_name"] == -1
    # no dwelling in common: the family name is its own comparison again
    assert rows[("a", "e")]["gamma_family_name"] != -1
    assert level(("a", "e"), "address") == "Town agrees"
    assert level(("a", "d"), "address") == "Town agrees, all one side gives"


def test_swapped_names_are_one_piece_of_evidence_and_are_blocked(built: Environment) -> None:
    """Given and family names written the other way round: the given-name comparison weighs the
    swap, the family-name comparison is unknown (one event, not two), and a blocking rule of its
    own pairs the two records."""
    from transforms.resolve.clustering import COMPONENT
    from transforms.resolve.features import person_features
    from transforms.resolve.scoring import component_scorer
    from transforms.resolve.why_not import pairing_rules

    persons = _persons(
        ["a", "b"],
        ["electoral_roll", "vehicle_keepers"],
        given_name=["JOHN", "SMITH"],
        family_name=["SMITH", "JOHN"],
    )
    addresses = pl.DataFrame(
        schema={
            "record_key": pl.String,
            "address_line": pl.String,
            "town": pl.String,
            "postcode": pl.String,
        }
    )
    identifiers = pl.DataFrame(schema=IDENTIFIER_SCHEMA)
    documents = pl.DataFrame(schema=DOCUMENT_SCHEMA)
    features = person_features(persons, addresses, identifiers, documents)
    model = approved_model(built)
    (row,) = component_scorer(built, model)(
        features.with_columns(pl.lit("one").alias(COMPONENT))
    ).to_dicts()
    given = [
        lv.get("label_for_charts")
        for c in model.settings()["comparisons"]  # type: ignore[union-attr]
        if c["output_column_name"] == "given_name"
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level")
    ]
    assert given[len(given) - 1 - row["gamma_given_name"]] == "Given and family names swapped"
    assert row["gamma_family_name"] == -1
    assert pairing_rules(features, "a", "b", ["names_swapped", "given_family"]) == ["names_swapped"]


def test_inputs_without_the_newer_columns_get_them_unknown() -> None:
    """Bulk-search subjects (shaped before address parts, e-mail and phone kinds) are completed:
    phone kinds from their phones, the rest null (unknown to the model, never against)."""
    from transforms.resolve.features import FEATURE_COLUMNS, with_all_feature_columns

    subjects = pl.DataFrame(
        {
            "unique_id": ["s1", "s2"],
            "source_dataset": ["subject", "subject"],
            "classification": ["OFFICIAL", "OFFICIAL"],
            "given_name": ["JOHN", "ANN"],
            "middle_names": [None, None],
            "family_name": ["SMITH", "LEE"],
            "given_name_variants": [[], []],
            "date_of_birth": [None, None],
            "birth_year": [None, None],
            "postcodes": [["LS1 4AB"], None],
            "phones": [["+447911123456"], None],
            "documents": [None, None],
        },
        schema_overrides={
            "middle_names": pl.String,
            "given_name_variants": pl.List(pl.String),
            "date_of_birth": pl.Date,
            "birth_year": pl.Int64,
            "documents": pl.List(pl.String),
        },
    )
    completed = with_all_feature_columns(subjects)
    assert completed.columns == FEATURE_COLUMNS
    assert completed["phone_kinds"].to_list() == [["mobile"], None]
    assert completed["towns"].null_count() == completed["emails"].null_count() == 2


def test_matches_in_the_random_sample_are_taken_out_of_u() -> None:
    """u = (observed - prior * m) / (1 - prior), at least a quarter of observed, renormalised."""
    from transforms.resolve.training import without_matches_in_u

    settings = {
        "probability_two_random_records_match": 0.01,
        "comparisons": [
            {
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.9, "u_probability": 0.02},
                    {"m_probability": 0.1, "u_probability": 0.98},
                ]
            }
        ],
    }
    levels = without_matches_in_u(settings)["comparisons"][0]["comparison_levels"]
    exact, other = levels[1]["u_probability"], levels[2]["u_probability"]
    assert exact == pytest.approx(0.011 / (0.011 + 0.979))
    assert exact + other == pytest.approx(1.0)
    assert settings["comparisons"][0]["comparison_levels"][1]["u_probability"] == 0.02  # a copy
