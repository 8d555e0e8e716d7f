"""Normalisation rules, one parametrised case per delivered format variant."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nameparser import HumanName

from transforms.normalise.addresses import address_line, normalise_postcode, split_address
from transforms.normalise.dates import _parse_numeric, parse_birth
from transforms.normalise.names import parse_name
from transforms.normalise.phones import e164_with_phonenumbers, region_of, to_e164
from transforms.normalise.text import fold, name_part

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


_WORDS = st.sampled_from(
    ["JOHN", "Mary", "o'neil", "SMITH-JONES", "J", "E", "Dr", "van", "de", "Jr", "III", "and"]
    + ["Mac", "St", "Sir", "Ms", "la", "Y", "Ann-Marie", "Zoë", "x", "PhD", "Bin", "j", "IV"]
    + ["Ivanovich", "oglu", "Vi", "Liv", "Mix", "D'Arcy", "A-", "MC", "Esq", "Hon", "Rev", "MR"]
    + ["MRS", "MISS", "King", "Lord", "Dame", "Prof", "Capt", "Judge"]
)


@settings(max_examples=3000, deadline=None)
@given(
    words=st.lists(_WORDS, min_size=1, max_size=5),
    comma_at=st.integers(min_value=0, max_value=5),
)
def test_the_fast_path_parses_names_exactly_as_nameparser(words: list[str], comma_at: int) -> None:
    """parse_name skips nameparser for plain names; it must never disagree with it."""
    text = " ".join(words)
    if 0 < comma_at < len(words):
        text = " ".join(words[:comma_at]) + ", " + " ".join(words[comma_at:])
    human = HumanName(fold(text))
    expected = (name_part(human.first), name_part(human.middle), name_part(human.last))
    assert tuple(parse_name.__wrapped__(text, "forename_middle_surname")) == expected


_REGIONS = {"GBR": "44", "USA": "1", "FRA": "33", "DEU": "49", "IRL": "353", "AUS": "61"}
_REGIONS |= {"IND": "91", "RUS": "7", "NGA": "234", "ITA": "39", "ARG": "54"}


@settings(max_examples=3000, deadline=None)
@given(
    country=st.sampled_from(sorted(_REGIONS)),
    lead=st.sampled_from(["+own", "+other", "0", "1", "8", "00", "011", "own", ""]),
    digits=st.text("0123456789", min_size=0, max_size=13),
    spaced=st.booleans(),
)
def test_the_fast_path_formats_phones_exactly_as_phonenumbers(
    country: str, lead: str, digits: str, spaced: bool
) -> None:
    """to_e164 skips phonenumbers' parser for plain numbers; it must never disagree with it."""
    prefix = {"+own": "+" + _REGIONS[country], "+other": "+44", "own": _REGIONS[country]}
    text = prefix.get(lead, lead) + digits
    if spaced and len(text) > 5:
        text = f"{text[:5]} {text[5:]}"
    assert to_e164.__wrapped__(text, country) == e164_with_phonenumbers(text, region_of(country))


@settings(max_examples=3000, deadline=None)
@given(
    fmt=st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%y%m%d", "%m/%Y", "%d.%m.%y", "%Y"]),
    text=st.one_of(
        st.from_regex(r"\A[0-9]{1,4}[-/.]?[0-9]{1,2}[-/.]?[0-9]{0,4}\Z"),
        st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31)).map(str),
    ),
)
def test_the_fast_date_path_agrees_with_strptime(fmt: str, text: str) -> None:
    """Zero-padded numeric dates skip strptime; the answer must be strptime's."""
    try:
        expected = datetime.strptime(text, fmt).date()
    except ValueError:
        expected = None
    assert _parse_numeric(text, fmt) == expected
