"""Error models ("noise profiles"): which whole-value corruptions a generated catalogue carries.

Every dataset builder applies its own format variation and light content noise (typos, nicknames,
maiden names, stale addresses ...) at rates written in its module; that is the `default` profile,
and it is unchanged by this module. A profile adds, on top, the error kinds real deliveries have
and the default model lacks, each at one rate written here and nowhere else:

| rate | what happens to a record (each field independently) | truth tag |
|---|---|---|
| `given_name_replaced` | the given name is another person's given name | `given_name_replaced` |
| `postcode_replaced` | the postcode is another person's (whole) postcode | `postcode_replaced` |
| `phone_replaced` | the phone is another person's phone of the same kind | `phone_replaced` |
| `dob_replaced` | the date of birth is another person's | `dob_replaced` |
| `dob_digits_wrong` | 1 to 3 digits of YYYYMMDD wrong (still a valid, past date) | `dob_digits_wrong` |
| `dob_year_wrong` | the year off by 1 to 10, day and month right | `dob_year_wrong` |
| `field_missing` | an optional field present in the record is empty: date of birth, postcode, phone, e-mail, middle names (each field on its own draw) | `dob_missing`, `postcode_missing`, `phone_missing`, `email_missing`, `middle_name_missing` |
| `names_swapped` | given and family name swapped in their columns | `swapped_names` |
| `ocr` | one OCR confusion (0/O, 1/I/L, 5/S, 8/B, 2/Z, 6/G, RN/M, CL/D, VV/W) in the given name, the family name and the postcode (each on its own draw) | `ocr_given_name`, `ocr_family_name`, `ocr_postcode` |
| `name_and_town_only` | the record keeps its name and town; every other personal field (date of birth, address line, postcode, phones, e-mail, middle names, handset) is empty | `name_and_town_only` |

A rate is the share of records *that carry the field* (and, for the non-name fields, are not
`name_and_town_only`) hit by that kind; the kinds hitting one field are mutually exclusive, so
the shares add up. The person behind a record (`record_truth.person_id`) and the clean values in
truth are never corrupted: truth stays exact, and the truth tag says which field was corrupted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class NoiseProfile:
    """Rates of the whole-value error kinds a profile adds to every dataset's own noise."""

    name: str
    given_name_replaced: float = 0.0
    postcode_replaced: float = 0.0
    phone_replaced: float = 0.0
    dob_replaced: float = 0.0
    dob_digits_wrong: float = 0.0
    dob_year_wrong: float = 0.0
    field_missing: float = 0.0
    names_swapped: float = 0.0
    ocr: float = 0.0
    name_and_town_only: float = 0.0

    @property
    def active(self) -> bool:
        """False for a profile that adds nothing (its output is the default profile's)."""
        return any(getattr(self, f.name) > 0 for f in fields(self) if f.name != "name")

    def rates(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


DEFAULT = NoiseProfile("default")
HOSTILE = NoiseProfile(
    "hostile",
    given_name_replaced=0.03,
    postcode_replaced=0.03,
    phone_replaced=0.03,
    dob_replaced=0.02,
    dob_digits_wrong=0.04,
    dob_year_wrong=0.02,
    field_missing=0.05,
    names_swapped=0.02,
    ocr=0.03,
    name_and_town_only=0.02,
)
PROFILES: dict[str, NoiseProfile] = {p.name: p for p in (DEFAULT, HOSTILE)}


def get_profile(name: str) -> NoiseProfile:
    """The profile called `name`; ValueError naming the allowed ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown noise profile {name!r}: choose one of {', '.join(PROFILES)}"
        ) from None


# Truth tags that change a field's *content* (not its format), per field the normalisation
# report measures: a record carrying one is not eligible for that field. The default profile's
# tags (as transforms/evaluate/normalisation.py lists them) plus the hostile profile's.
CONTENT_NOISE: dict[str, frozenset[str]] = {
    "given_name": frozenset(
        {"typo_given_name", "nickname", "swapped_names", "given_name_replaced", "ocr_given_name"}
    ),
    "family_name": frozenset(
        {"typo_family_name", "swapped_names", "maiden_name", "ocr_family_name"}
    ),
    "date_of_birth": frozenset(
        {
            "dob_day_month_swapped",
            "dob_missing",
            "dob_replaced",
            "dob_digits_wrong",
            "dob_year_wrong",
            "name_and_town_only",
        }
    ),
    "birth_year": frozenset(
        {"dob_missing", "dob_replaced", "dob_digits_wrong", "dob_year_wrong", "name_and_town_only"}
    ),
    "postcode": frozenset(
        {
            "stale_address",
            "office_service_address",
            "current_address_missing",
            "postcode_replaced",
            "postcode_missing",
            "ocr_postcode",
            "name_and_town_only",
        }
    ),
    "phone": frozenset({"phone_missing", "phone_replaced", "name_and_town_only"}),
}
