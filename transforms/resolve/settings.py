"""The Splink model specification: comparisons per field and the candidate blocking rules.

One function builds the settings so training, prediction, incremental scoring and bulk search
all use the same model shape.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

# The dialect the custom comparison SQL below is written in; Splink translates it (sqlglot) to
# the backend's dialect, so one model shape serves DuckDB and Spark.
SQL_DIALECT = "duckdb"

# Candidate blocking rules, named; which ones are used is decided by measuring their comparison
# counts (see blocking.py), never guessed.
CANDIDATE_BLOCKING_RULES: dict[str, BlockingRuleCreator] = {
    "given_family": block_on("given_name", "family_name"),
    "family_dob": block_on("family_name", "date_of_birth"),
    "given_dob": block_on("given_name", "date_of_birth"),
    "dob": block_on("date_of_birth"),
    "family_birth_year": block_on("family_name", "birth_year"),
    "phone": block_on("phones", arrays_to_explode=["phones"]),
    "document": block_on("documents", arrays_to_explode=["documents"]),
    "postcode_family": block_on("postcodes", "family_name", arrays_to_explode=["postcodes"]),
    "postcode_given": block_on("postcodes", "given_name", arrays_to_explode=["postcodes"]),
    "postcode": block_on("postcodes", arrays_to_explode=["postcodes"]),
    # Given and family names written the other way round on one record.
    "names_swapped": CustomRule(
        "l.given_name = r.family_name and l.family_name = r.given_name", SQL_DIALECT
    ),
    "family": block_on("family_name"),
}


# The comparisons (output column names below) of identifiers a person holds several of over
# time: between two clusters their best pair counts, not their mean (clustering.py).
HELD_SEVERAL = frozenset({"address", "phones", "emails", "documents"})


def given_name_comparison() -> cl.CustomComparison:
    """Exact (with term frequencies), nickname, close spelling, swapped, initial only, one name
    in the other's column (names swapped on one record, the other an initial), else."""
    return cl.CustomComparison(
        output_column_name="given_name",
        comparison_levels=[
            cll.NullLevel("given_name"),
            cll.ExactMatchLevel("given_name", term_frequency_adjustments=True),
            cll.CustomLevel(
                "list_contains(given_name_variants_l, given_name_r) "
                "or list_contains(given_name_variants_r, given_name_l)",
                label_for_charts="Nickname of each other",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.JaroWinklerLevel("given_name", 0.92),
            cll.CustomLevel(
                "given_name_l = family_name_r and family_name_l = given_name_r",
                label_for_charts="Given and family names swapped",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "(length(given_name_l) = 1 or length(given_name_r) = 1) "
                "and left(given_name_l, 1) = left(given_name_r, 1)",
                label_for_charts="Initial agrees",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "given_name_l = family_name_r or family_name_l = given_name_r",
                label_for_charts="One side's given name is the other's family name",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.JaroWinklerLevel("given_name", 0.8),
            cll.ElseLevel(),
        ],
    )


# Two records share a dwelling's address: a postcode, or a house number and street, in common.
# Written with array_intersect, which sqlglot carries to Spark (list_has_any becomes `&&` there,
# which Spark SQL does not have).
SHARED_DWELLING = (
    "(array_length(array_intersect(postcodes_l, postcodes_r)) > 0 "
    "or array_length(array_intersect(address_keys_l, address_keys_r)) > 0)"
)
SAME_FAMILY_NAME = "family_name_l = family_name_r"
# Given and family names written the other way round on one record: one event, weighed once, by
# the given-name comparison's level (as two it counted about 13 bits twice, past a date of birth
# that disagrees).
NAMES_SWAPPED = "given_name_l = family_name_r and family_name_l = given_name_r"
# One record's address is a town alone (no street, no postcode): a town that agrees is all the
# agreement it can show, unlike two full addresses that differ but for their town.
TOWN_ONLY_ON_ONE_SIDE = (
    "((streets_l is null and postcodes_l is null) or (streets_r is null and postcodes_r is null))"
)


def family_name_comparison() -> cl.CustomComparison:
    """Exact (with term frequencies), close spelling, else.

    Unknown here when the two records share a dwelling's address: the address comparison then
    weighs the family name and the address together (`address_comparison`), as a household's
    members share both. Unknown too when the names are swapped: the given-name comparison's
    level weighs the swap, one event, once.
    """
    return cl.CustomComparison(
        output_column_name="family_name",
        comparison_levels=[
            cll.Or(
                cll.NullLevel("family_name"),
                cll.CustomLevel(SHARED_DWELLING, base_dialect_str=SQL_DIALECT),
                cll.CustomLevel(NAMES_SWAPPED, base_dialect_str=SQL_DIALECT),
            ).configure(
                is_null_level=True,
                label_for_charts="Null, or weighed with a shared address or the given name",
            ),
            cll.ExactMatchLevel("family_name", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("family_name", 0.92),
            cll.JaroWinklerLevel("family_name", 0.8),
            cll.ElseLevel(),
        ],
    )


def middle_names_comparison() -> cl.CustomComparison:
    """Middle names tell apart a father and a son who share given and family names."""
    return cl.CustomComparison(
        output_column_name="middle_names",
        comparison_levels=[
            cll.NullLevel("middle_names"),
            cll.ExactMatchLevel("middle_names"),
            cll.CustomLevel(
                "left(middle_names_l, 1) = left(middle_names_r, 1) "
                "and (length(middle_names_l) = 1 or length(middle_names_r) = 1)",
                label_for_charts="Initial agrees",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.JaroWinklerLevel("middle_names", 0.88),
            cll.ElseLevel(),
        ],
    )


def date_of_birth_comparison() -> cl.CustomComparison:
    """Exact, transposed, one or two characters apart, wrong year, within a year, else.

    Graded so a mistyped date is weaker evidence rather than a contradiction, while dates far
    apart (a father and his son) stay strong evidence against.
    """
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.CustomLevel(
                "(date_of_birth_l is null and birth_year_l is null) "
                "or (date_of_birth_r is null and birth_year_r is null)",
                label_for_charts="Null",
                base_dialect_str=SQL_DIALECT,
            ).configure(is_null_level=True),
            cll.CustomLevel("date_of_birth_l = date_of_birth_r", label_for_charts="Exact match"),
            cll.CustomLevel(
                "year(date_of_birth_l) = year(date_of_birth_r) "
                "and month(date_of_birth_l) = day(date_of_birth_r) "
                "and day(date_of_birth_l) = month(date_of_birth_r)",
                label_for_charts="Day and month transposed",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "damerau_levenshtein(cast(date_of_birth_l as varchar), "
                "cast(date_of_birth_r as varchar)) <= 1",
                label_for_charts="One character apart",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "(date_of_birth_l is null or date_of_birth_r is null) and birth_year_l = birth_year_r",
                label_for_charts="Same year (one side year only)",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "damerau_levenshtein(cast(date_of_birth_l as varchar), "
                "cast(date_of_birth_r as varchar)) <= 2",
                label_for_charts="Two characters apart",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "month(date_of_birth_l) = month(date_of_birth_r) "
                "and day(date_of_birth_l) = day(date_of_birth_r)",
                label_for_charts="Same day and month, another year",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.CustomLevel(
                "abs(birth_year_l - birth_year_r) <= 1",
                label_for_charts="Within a year",
                base_dialect_str=SQL_DIALECT,
            ),
            cll.ElseLevel(),
        ],
    )


def _by_family_name(level: cll.ComparisonLevelCreator, label: str) -> list[cll.And]:
    """`level` where the family names agree, then `level` where they do not (or one is null)."""
    same = cll.CustomLevel(SAME_FAMILY_NAME, base_dialect_str=SQL_DIALECT)
    other = cll.CustomLevel(
        f"not coalesce({SAME_FAMILY_NAME}, false)", base_dialect_str=SQL_DIALECT
    )
    return [
        cll.And(level, same).configure(label_for_charts=f"{label}, family names agree"),
        cll.And(level, other).configure(label_for_charts=f"{label}, family names differ"),
    ]


def address_comparison() -> cl.CustomComparison:
    """Postcode, house number and street, street alone (fuzzy) and town, as one comparison.

    One comparison, not four: the parts of one address agree together, so counting each as
    independent evidence would make any two people of one household look like one person.
    Null (no evidence) unless both records carry a comparable part: a record with a town but no
    street is never held against one with a street.

    Where a dwelling's address is shared (postcode, or house number and street), each level is
    split by whether the family names agree, and the family-name comparison is unknown
    (`family_name_comparison`): the two are one piece of evidence, estimated together. Members
    of one household share a family name and an address, so among non-matching pairs a shared
    address and a shared family name come together far more often than their separate
    frequencies multiply to; counted as independent terms they added up to a match.
    """
    shared = {c: cll.ArrayIntersectLevel(c, 1) for c in ("postcodes", "address_keys", "towns")}
    # Streets are compared first with first and last with last (sorted lists; most records
    # carry one address): Splink's all-pairs array level writes a lambda newer DuckDB refuses.
    streets = ColumnExpression("streets")

    def similar_street() -> cll.Or:
        return cll.Or(
            cll.JaroWinklerLevel(streets.access_extreme_array_element("first"), 0.9),
            cll.JaroWinklerLevel(streets.access_extreme_array_element("last"), 0.9),
        )

    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                "not ((postcodes_l is not null and postcodes_r is not null) "
                "or (streets_l is not null and streets_r is not null) "
                "or (towns_l is not null and towns_r is not null))",
                label_for_charts="Nothing comparable",
                base_dialect_str=SQL_DIALECT,
            ).configure(is_null_level=True),
            *_by_family_name(
                cll.And(shared["postcodes"], shared["address_keys"]),
                "Postcode, house number and street agree",
            ),
            *_by_family_name(
                cll.And(shared["address_keys"], shared["towns"]),
                "House number, street and town agree",
            ),
            *_by_family_name(cll.ArrayIntersectLevel("postcodes", 1), "Postcode agrees"),
            *_by_family_name(
                cll.ArrayIntersectLevel("address_keys", 1), "House number and street agree"
            ),
            cll.And(similar_street(), shared["towns"]).configure(
                label_for_charts="Similar street in the same town"
            ),
            similar_street().configure(label_for_charts="Similar street"),
            cll.And(
                shared["towns"],
                cll.CustomLevel(TOWN_ONLY_ON_ONE_SIDE, base_dialect_str=SQL_DIALECT),
            ).configure(label_for_charts="Town agrees, all one side gives"),
            cll.ArrayIntersectLevel("towns", 1).configure(label_for_charts="Town agrees"),
            cll.ElseLevel(),
        ],
    )


def phone_comparison() -> cl.CustomComparison:
    """A shared number, else none shared; unknown unless both carry a phone of one kind.

    A directory lists landlines and a subscriber file mobiles: two records whose numbers are of
    different kinds (features.phone_kinds) are no evidence against each other.
    """
    return cl.CustomComparison(
        output_column_name="phones",
        comparison_levels=[
            cll.Or(
                cll.NullLevel("phones"), cll.Not(cll.ArrayIntersectLevel("phone_kinds", 1))
            ).configure(is_null_level=True, label_for_charts="No phone of one kind on both"),
            cll.ArrayIntersectLevel("phones", 1).configure(label_for_charts="A number agrees"),
            cll.ElseLevel(),
        ],
    )


def build_settings(blocking_rules: list[str]) -> SettingsCreator:
    """The model: link and dedupe across every dataset at once."""
    unknown = [r for r in blocking_rules if r not in CANDIDATE_BLOCKING_RULES]
    if unknown:
        raise ValueError(
            f"unknown blocking rules {unknown}; known: {sorted(CANDIDATE_BLOCKING_RULES)}"
        )
    return SettingsCreator(
        link_type="link_and_dedupe",
        unique_id_column_name="unique_id",
        comparisons=[
            given_name_comparison(),
            family_name_comparison(),
            middle_names_comparison(),
            date_of_birth_comparison(),
            address_comparison(),
            phone_comparison(),
            cl.ArrayIntersectAtSizes("documents", [1]),
            cl.ArrayIntersectAtSizes("emails", [1]),
        ],
        blocking_rules_to_generate_predictions=[
            CANDIDATE_BLOCKING_RULES[r] for r in blocking_rules
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["classification"],
    )
