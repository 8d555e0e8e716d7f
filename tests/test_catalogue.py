"""The catalogue loads, and a bad entry is refused with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import CATALOGUE
from transforms.catalogue import CatalogueError, load_catalogue, load_dataset

EXPECTED = {
    "electoral_roll",
    "telephone_directory",
    "travel_manifests",
    "company_officers",
    "vehicle_keepers",
    "subscriber_records",
    "call_detail_records",
    "rocu_nominals",
}


def test_project_catalogue_loads() -> None:
    catalogue = load_catalogue(CATALOGUE)
    assert set(catalogue) == EXPECTED
    assert catalogue["company_officers"].source.separator == ";"
    assert catalogue["company_officers"].source.encoding == "latin-1"
    assert catalogue["travel_manifests"].classification == "SECRET"


def _write_variant(tmp_path: Path, change: dict[str, object], name: str = "electoral_roll") -> Path:
    entry = yaml.safe_load((CATALOGUE / "electoral_roll.yml").read_text())
    for dotted, value in change.items():
        target = entry
        *parents, leaf = dotted.split(".")
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(leaf)
        else:
            target[leaf] = value
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(entry))
    return path


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"classification": "RESTRICTED"}, "classification"),
        ({"access": "stream"}, "access"),
        ({"source.format": "xml"}, "source.format"),
        ({"source.record_id": ["nope"]}, "source.record_id"),
        ({"refresh": "every day"}, "refresh"),
        ({"retention_days": -1}, "retention_days"),
        ({"authorisation.expires_on": "soon"}, "authorisation.expires_on"),
        ({"owner": "bob"}, "owner"),
        ({"title": None}, "title"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_entry_names_file_and_key(
    tmp_path: Path, change: dict[str, object], key: str
) -> None:
    path = _write_variant(tmp_path, change)
    with pytest.raises(CatalogueError) as info:
        load_dataset(path)
    assert str(path) in str(info.value)
    assert key in str(info.value)


def test_name_must_match_file(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, {}, name="other_name")
    with pytest.raises(CatalogueError, match="other_name"):
        load_dataset(path)


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(CatalogueError, match="broken.yml"):
        load_dataset(path)


@pytest.mark.parametrize(
    "refresh",
    ["manual", "0 6 * * *", "0 9 * * MON", "0 9 * * mon-fri", "*/15 * * * *", "@daily", "@hourly"],
)
def test_refresh_accepts_what_dagster_schedules_accept(tmp_path: Path, refresh: str) -> None:
    assert load_dataset(_write_variant(tmp_path, {"refresh": refresh})).refresh == refresh


@pytest.mark.parametrize(
    "refresh",
    ["99 99 99 99 99", "0 9 * *", "0 0 9 * * *", "0 0 30 2 *", "@reboot", "every day", ""],
)
def test_refresh_refuses_what_is_not_a_schedule(tmp_path: Path, refresh: str) -> None:
    path = _write_variant(tmp_path, {"refresh": refresh})
    with pytest.raises(CatalogueError) as info:
        load_dataset(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert f"refresh: {refresh!r} is neither 'manual' nor a valid cron schedule" in message
