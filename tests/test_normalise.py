"""Normalisation rules, one parametrised case per delivered format variant."""

from __future__ import annotations

from datetime import date

import pytest

from transforms.normalise.addresses import address_line, normalise_postcode, split_address
from transforms.normalise.dates import parse_birth
from transforms.normalise.names import parse_name
from transforms.normalise.phones import to_e164

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("John Albert Smith", "forename_middle_surname", ("JOHN", "ALBERT", "SMITH")),
        ("Zoë Renée Müller", "forename_middle_surname", ("ZOE", "RENEE", "MULLER")),
        ("SMITH, J", "surname_comma_initial", ("J", None, "SMITH")),
        ("O'BRIEN, M", "surname_comma_initial", ("M", None, "O'BRIEN")),
        ("Smith, John Albert", "surname_comma_forenames", ("JOHN", "ALBERT", "SMITH")),
        ("González, José", "surname_comma_forenames", ("JOSE", None, "GONZALEZ")),
        ("MRS SARAH A JONES-SMITH", "title_forename_surname", ("SARAH", "A", "JONES-SMITH")),
        ("DR JOHN SMITH", "title_forename_surname", ("JOHN", None, "SMITH")),
        ("SMITH<<JOHN<ALBERT", "mrz", ("JOHN", "ALBERT", "SMITH")),
        ("DE<LA<CRUZ<<MARIA", "mrz", ("MARIA", None, "DE LA CRUZ")),
        ("Smith John", "surname_comma_forenames", ("SMITH", None, "JOHN")),
        ("", "mrz", (None, None, None)),
        (None, "forename_middle_surname", (None, None, None)),
    ],
)
def test_parse_name(text: str | None, style: str, expected: tuple[str | None, ...]) -> None:
    assert tuple(parse_name(text, style)) == expected


def test_unknown_name_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown name style"):
        parse_name("A B", "surname_first")


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("850312", "%y%m%d", (date(1985, 3, 12), 1985)),
        ("050312", "%y%m%d", (date(2005, 3, 12), 2005)),
        ("300312", "%y%m%d", (date(1930, 3, 12), 1930)),
        ("03/12/1985", "%m/%d/%Y", (date(1985, 3, 12), 1985)),
        ("12/03/1985", "%d/%m/%Y", (date(1985, 3, 12), 1985)),
        ("03/1985", "%m/%Y", (None, 1985)),
        ("1985-03-12", "%Y-%m-%d", (date(1985, 3, 12), 1985)),
        ("13/13/1985", "%d/%m/%Y", (None, None)),
        ("01/01/1850", "%d/%m/%Y", (None, None)),
        ("01/01/2030", "%d/%m/%Y", (None, None)),
        ("not a date", "%Y-%m-%d", (None, None)),
        (None, "%Y-%m-%d", (None, None)),
    ],
)
def test_parse_birth(text: str | None, fmt: str, expected: tuple[object, object]) -> None:
    assert tuple(parse_birth(text, fmt, TODAY)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07911 123456", "+447911123456"),
        ("+447911123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        ("0113 496 0123", "+441134960123"),
        ("(020) 7946 0018", "+442079460018"),
        ("12345", None),
        ("not a phone", None),
        (None, None),
    ],
)
def test_to_e164(text: str | None, expected: str | None) -> None:
    assert to_e164(text, "GBR") == expected


def test_to_e164_uses_dataset_country() -> None:
    assert to_e164("0612345678", "NLD") == "+31612345678"


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("LS1 4AB", "GBR", "LS1 4AB"),
        ("ls14ab", "GBR", "LS1 4AB"),
        ("sw1a 1aa", "GBR", "SW1A 1AA"),
        ("M1 1AE", "GBR", "M1 1AE"),
        ("QQ1 1AA", "GBR", None),
        ("LS1 4AI", "GBR", None),
        ("12345", "GBR", None),
        ("1011 ab", "NLD", "1011AB"),
        (None, "GBR", None),
    ],
)
def test_normalise_postcode(text: str | None, country: str, expected: str | None) -> None:
    assert normalise_postcode(text, country) == expected


def test_address_line_puts_house_number_first() -> None:
    assert address_line("Flat 2", "3 Mill Lane") == "3 MILL LANE FLAT 2"
    assert address_line("12 High St.", None) == "12 HIGH STREET"
    assert address_line("Flat 29, 184 Albert Cl", None) == "184 ALBERT CLOSE FLAT 29"


def test_split_address() -> None:
    assert tuple(split_address("12 High Street, Leeds LS1 4AB")) == (
        "12 HIGH STREET",
        "LEEDS",
        "LS1 4AB",
    )
    assert tuple(split_address("Flat 1, 9 Quay Road, Bristol, bs1 5aa")) == (
        "9 QUAY ROAD FLAT 1",
        "BRISTOL",
        "BS1 5AA",
    )
    assert tuple(split_address(None)) == (None, None, None)
