"""Whether a phone number is a mobile or a fixed line, decided in polars from phonenumbers' metadata.

Resolution compares phones only between numbers of one kind (a landline and a mobile of one
person are no evidence against each other), so every distinct number of silver is classified on
every run. `phonenumbers.number_type` costs about 50 µs a number in Python holding the GIL: a
minute a run at a million people. The E.164 numbers silver holds are decided here instead by
the library's own rules run as vectorised regular expressions over the library's own metadata
(`_number_type_helper` and `_region_code_for_number_from_list` of phonenumbers, step for step);
anything those rules cannot follow exactly (another form of number, a national number the parser
would strip a prefix from, a pattern the regex engine cannot compile) is left to the library.
tests/test_phone_kinds.py checks the two agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType

MOBILE, FIXED = "mobile", "fixed"
BOTH = (FIXED, MOBILE)  # a number whose kind its numbering plan does not tell
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.PAGER}
_FIXED = {PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP}
_NON_GEO = "001"
_E164 = r"^\+[1-9]\d{2,19}$"
_MIN_NSN, _MAX_NSN = 2, 17  # the parser's own limits on a national significant number
# The order `_number_type_helper` tests the descriptions in, before fixed line and mobile.
_SPECIAL = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


@lru_cache(maxsize=500_000)
def kinds_with_phonenumbers(number: str) -> tuple[str, ...]:
    """The reference rule: "mobile", "fixed" or both, by `phonenumbers.number_type`."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return BOTH
    return _kinds(kind)


def _kinds(kind: int) -> tuple[str, ...]:
    if kind in _MOBILE:
        return (MOBILE,)
    if kind in _FIXED:
        return (FIXED,)
    return BOTH


class _Undecidable(Exception):
    """The metadata holds something the vectorised rules cannot follow exactly."""


def _pattern(regex: str) -> str:
    try:  # the library compiles with Python's `re`, polars with Rust's: both must accept it
        re.compile(regex)
        pl.select(pl.lit("0").str.contains(regex))
    except Exception as error:  # noqa: BLE001 - any compile failure means: ask the library
        raise _Undecidable(regex) from error
    return regex


def _matches_desc(national: pl.Expr, desc: object) -> pl.Expr:
    """`_is_number_matching_desc`: a possible length (when listed) and the whole pattern."""
    if desc is None:
        return pl.lit(False)
    lengths = list(getattr(desc, "possible_length", None) or [])
    regex = getattr(desc, "national_number_pattern", None)
    if regex is None:
        return pl.lit(False)
    matched = national.str.contains(f"^(?:{_pattern(regex)})$")
    if lengths:
        matched = national.str.len_chars().is_in(lengths) & matched
    return matched


def _type_expr(national: pl.Expr, metadata: PhoneMetadata) -> pl.Expr:
    """`_number_type_helper` as one expression giving the PhoneNumberType."""
    expr = pl.when(~_matches_desc(national, metadata.general_desc)).then(
        pl.lit(PhoneNumberType.UNKNOWN)
    )
    for field, kind in _SPECIAL:
        expr = expr.when(_matches_desc(national, getattr(metadata, field))).then(pl.lit(kind))
    fixed = _matches_desc(national, metadata.fixed_line)
    mobile = _matches_desc(national, metadata.mobile)
    if metadata.same_mobile_and_fixed_line_pattern:
        expr = expr.when(fixed).then(pl.lit(PhoneNumberType.FIXED_LINE_OR_MOBILE))
    else:
        expr = (
            expr.when(fixed & mobile)
            .then(pl.lit(PhoneNumberType.FIXED_LINE_OR_MOBILE))
            .when(fixed)
            .then(pl.lit(PhoneNumberType.FIXED_LINE))
            .when(mobile)
            .then(pl.lit(PhoneNumberType.MOBILE))
        )
    return expr.otherwise(pl.lit(PhoneNumberType.UNKNOWN)).cast(pl.Int64)


def _metadata(country_code: int, region: str) -> PhoneMetadata | None:
    if region == _NON_GEO:
        return PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    return PhoneMetadata.metadata_for_region(region, None)


@lru_cache(maxsize=512)
def _country_rules(country_code: int) -> tuple[pl.Expr, pl.Expr] | None:
    """(undecided, type) over `national` for numbers of one calling code; None: ask the library.

    `number_type` first finds the number's region (`region_code_for_number`: the only one, or the
    first of the code's regions whose leading digits match or whose rules give a type), then
    applies that region's rules; parsing strips a national prefix where the region's
    `national_prefix_for_parsing` matches, so such numbers are left undecided.
    """
    national = pl.col("national")
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    try:
        main = _metadata(country_code, regions[0]) if regions else None
        if main is None:
            return None
        undecided = ~national.str.len_chars().is_between(_MIN_NSN, _MAX_NSN)
        if main.national_prefix_for_parsing:
            prefix = _pattern(main.national_prefix_for_parsing)
            undecided = undecided | national.str.contains(f"^(?:{prefix})")
        if len(regions) == 1:
            return undecided, _type_expr(national, main)
        typed = pl.when(pl.lit(False)).then(pl.lit(PhoneNumberType.UNKNOWN))
        for region in regions:
            metadata = _metadata(country_code, region)
            if metadata is None:
                continue
            kind = _type_expr(national, metadata)
            if metadata.leading_digits is not None:
                chosen = national.str.contains(f"^(?:{_pattern(metadata.leading_digits)})")
            else:
                chosen = kind != PhoneNumberType.UNKNOWN
            typed = typed.when(chosen).then(kind)
        return undecided, typed.otherwise(pl.lit(PhoneNumberType.UNKNOWN)).cast(pl.Int64)
    except _Undecidable:
        return None


def _calling_code() -> pl.Expr:
    """The calling code of `+<digits>`: codes are prefix-free, so at most one prefix is one."""
    codes = sorted(COUNTRY_CODE_TO_REGION_CODE)
    digits = pl.col("number").str.slice(1)
    expr = pl.when(pl.lit(False)).then(pl.lit(None, pl.Int64))
    for width in (1, 2, 3):
        prefix = digits.str.slice(0, width).cast(pl.Int64, strict=False)
        expr = expr.when(prefix.is_in([c for c in codes if len(str(c)) == width])).then(prefix)
    return expr.otherwise(pl.lit(None, pl.Int64))


def phone_kinds_frame(numbers: pl.Series) -> pl.DataFrame:
    """phone, kinds (sorted list of "fixed" / "mobile") for every distinct number of `numbers`."""
    frame = pl.DataFrame({"number": numbers.cast(pl.String).drop_nulls().unique()})
    frame = frame.with_columns(
        pl.when(pl.col("number").str.contains(_E164)).then(_calling_code()).alias("code")
    ).with_columns(
        pl.col("number")
        .str.slice(pl.col("code").cast(pl.String).str.len_chars() + 1)
        .alias("national")
    )
    parts = []
    for (code,), group in frame.group_by("code"):
        rules = _country_rules(int(code)) if code is not None else None  # type: ignore[arg-type]
        if rules is None:
            parts.append(group.select("number", pl.lit(None, pl.Int64).alias("type")))
            continue
        undecided, typed = rules
        parts.append(group.select("number", pl.when(~undecided).then(typed).alias("type")))
    typed = (
        pl.concat(parts) if parts else frame.select("number", pl.lit(None, pl.Int64).alias("type"))
    )
    kinds = (
        pl.when(pl.col("type").is_in(list(_MOBILE)))
        .then(pl.lit([MOBILE]))
        .when(pl.col("type").is_in(list(_FIXED)))
        .then(pl.lit([FIXED]))
        .otherwise(pl.lit(list(BOTH)))
    )
    decided = typed.filter(pl.col("type").is_not_null()).select(
        pl.col("number").alias("phone"), kinds.alias("kinds")
    )
    rest = typed.filter(pl.col("type").is_null())["number"].to_list()
    library = pl.DataFrame(
        {"phone": rest, "kinds": [list(kinds_with_phonenumbers(n)) for n in rest]},
        schema={"phone": pl.String, "kinds": pl.List(pl.String)},
    )
    return pl.concat([decided, library])
