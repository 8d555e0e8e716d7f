"""The hidden population: people in households with addresses, phones and a little history.

Everything is sampled with numpy and assembled with polars, one column at a time; there is no
loop over people. Person `i` is row `i` (person_id == row index) so datasets gather attributes by
position instead of joining. Addresses change between deliveries (households move), so the
population is kept as static person attributes plus, per delivery, each household's current
address, previous address and landline; `World.state(k)` assembles the view at delivery k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate import names as N
from transforms.generate.columns import nullable
from transforms.generate.rand import child_rng, unique_integers, weighted_index

ADULT_AGE = 18
MOVE_RATE = 0.01  # share of households moving between two deliveries
PREVIOUS_ADDRESS_RATE = 0.15
LANDLINE_RATE = 0.45
EMAIL_RATE = 0.60
CSP_CUSTOMER_RATE = 0.60  # adults on the mobile network whose subscriber records we hold
CSP_JOIN_RATE = 0.015  # non-customers joining that network per delivery
TWIN_HOUSEHOLD_RATE = 0.01
HEAD, PARTNER, CHILD = 0, 1, 2
_ROLES = pl.Series("household_role", ["head", "partner", "child"])
_SEXES = pl.Series("sex", ["M", "F"])


@dataclass
class World:
    """The population plus its per-delivery address history."""

    people: pl.DataFrame  # static attributes; row i is person_id i
    addresses: pl.DataFrame  # row j is address_id j
    current: list[np.ndarray]  # per delivery: address id of each household
    previous: list[np.ndarray]  # per delivery: previous address id of each household, -1 if none
    # per delivery: each household's row in `landlines`, -1 if it has no landline
    landline: list[np.ndarray]
    landlines: pl.DataFrame  # e164, national
    delivery_dates: list[date]
    _states: dict[int, pl.DataFrame] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.people.height

    def state(self, k: int) -> pl.DataFrame:
        """People with their address and landline as at delivery k (cached)."""
        if k not in self._states:
            self._states[k] = self._assemble(k)
        return self._states[k]

    def release(self, k: int) -> None:
        """Forget the cached view of delivery k (it is rebuilt on demand)."""
        self._states.pop(k, None)

    def _assemble(self, k: int) -> pl.DataFrame:
        hh = self.people["household_id"].to_numpy()
        cur = self.addresses[self.current[k][hh]]
        prev_idx = self.previous[k][hh]
        prev = self.addresses.select(pl.all().gather(nullable("i", prev_idx, prev_idx >= 0)))
        line_idx = self.landline[k][hh]
        phones = self.landlines.select(pl.all().gather(nullable("i", line_idx, line_idx >= 0)))
        return pl.concat(
            [
                self.people,
                cur,
                prev.rename({c: f"prev_{c}" for c in prev.columns}),
                phones.rename({"e164": "landline", "national": "landline_national"}),
            ],
            how="horizontal",
        )

    def household_addresses(self) -> pl.DataFrame:
        """Truth: each household's address and landline at every delivery."""
        frames = []
        for k, day in enumerate(self.delivery_dates):
            line_idx = self.landline[k]
            frames.append(
                pl.concat(
                    [
                        pl.DataFrame(
                            {
                                "household_id": np.arange(len(self.current[k]), dtype=np.int64),
                                "delivery_id": [day.isoformat()] * len(self.current[k]),
                            }
                        ),
                        self.addresses[self.current[k]].select(
                            "line_1", "flat", "town", "postcode"
                        ),
                        self.landlines.select(
                            pl.col("e164")
                            .gather(nullable("i", line_idx, line_idx >= 0))
                            .alias("landline")
                        ),
                    ],
                    how="horizontal",
                )
            )
        return pl.concat(frames)


def build_world(people: int, seed: int, delivery_dates: list[date]) -> World:
    """Sample the population and its moves for every delivery date."""
    rng = child_rng(seed, "population")
    start = delivery_dates[0]
    sizes = _household_sizes(rng, people)
    n_households = len(sizes)
    household_id = np.repeat(np.arange(n_households), sizes)
    position = np.arange(people) - np.repeat(np.cumsum(sizes) - sizes, sizes)

    single_parent = rng.random(n_households) < 0.12
    role = np.where(
        position == 0,
        HEAD,
        np.where((position == 1) & ~single_parent[household_id], PARTNER, CHILD),
    )
    has_children = np.zeros(n_households, dtype=bool)
    np.logical_or.at(has_children, household_id, role == CHILD)

    age, twin_of = _ages_and_twins(rng, household_id, position, role, has_children)
    day_of_year = rng.integers(0, 365, size=people)
    # Twins share a birthday: copy the elder twin's day offset.
    has_twin = twin_of >= 0
    day_of_year[has_twin] = np.where(
        position[has_twin] == 3, day_of_year[twin_of[has_twin]], day_of_year[has_twin]
    )
    start64 = np.datetime64(start.isoformat(), "D")
    dob = start64 - (np.floor(age * 365.25).astype(np.int64) + day_of_year).astype("timedelta64[D]")
    age_years = ((start64 - dob).astype(np.int64) / 365.25).astype(np.int64)
    adult = age_years >= ADULT_AGE

    male = _males(rng, household_id, role)
    given = _given_names(rng, male, twin_of)
    middle = _middle_names(rng, male, given)
    family = _family_names(rng, n_households).gather(household_id)
    previous_family = _previous_family_names(rng, role, male, adult)

    addresses, current0, previous0 = _initial_addresses(rng, n_households)
    landline_flag = rng.random(n_households) < LANDLINE_RATE
    current, previous, landline_rows, addresses, landlines = _moves(
        seed, addresses, current0, previous0, landline_flag, len(delivery_dates)
    )

    frame = pl.DataFrame(
        {
            "person_id": np.arange(people, dtype=np.int64),
            "household_id": household_id.astype(np.int64),
            "household_role": _ROLES.gather(role),
            "sex": _SEXES.gather(np.where(male, 0, 1)),
            "age": age_years,
            "is_adult": adult,
            "given_name": given,
            "middle_names": middle,
            "family_name": family,
            "previous_family_name": previous_family,
            "date_of_birth": dob,
            "twin_of": nullable("twin_of", twin_of, has_twin),
        }
    )
    frame = frame.with_columns(
        F.per_distinct(frame[c], F.ascii_upper).alias(
            f"{c.removesuffix('_name').removesuffix('_names')}_ascii"
        )
        for c in ("given_name", "middle_names", "family_name", "previous_family_name")
    )
    frame = _contact_details(rng, frame, adult, household_id, len(delivery_dates))
    return World(frame, addresses, current, previous, landline_rows, landlines, delivery_dates)


def _household_sizes(rng: np.random.Generator, people: int) -> np.ndarray:
    weights = np.asarray(N.HOUSEHOLD_SIZE_WEIGHTS)
    mean = float((np.arange(1, 6) * weights).sum() / weights.sum())
    draw = weighted_index(rng.random(int(people / mean * 1.3) + 16), weights) + 1
    total = np.cumsum(draw)
    if total[-1] < people:  # vanishingly unlikely; pad with single-person households
        draw = np.concatenate([draw, np.ones(people - int(total[-1]), dtype=draw.dtype)])
        total = np.cumsum(draw)
    n = int(np.searchsorted(total, people)) + 1
    sizes = draw[:n].copy()
    sizes[-1] -= total[n - 1] - people
    return sizes


def _adult_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    ages = np.arange(ADULT_AGE, 91)
    weights = np.where(ages <= 65, 1.0, 1.0 - 0.8 * (ages - 65) / 25)
    return ages[weighted_index(rng.random(n), weights)].astype(np.float64)


def _ages_and_twins(
    rng: np.random.Generator,
    household_id: np.ndarray,
    position: np.ndarray,
    role: np.ndarray,
    has_children: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Ages in years; parents of children are 24-55, children younger than parent minus 18."""
    n = len(household_id)
    n_hh = len(has_children)
    head_age = np.where(
        has_children, rng.integers(24, 56, size=n_hh).astype(np.float64), _adult_ages(rng, n_hh)
    )
    base = head_age[household_id]
    partner = np.clip(base + np.round(rng.normal(0, 4, size=n)), ADULT_AGE, 90)
    child_max = np.minimum(base - 18, 30)
    child = np.floor(rng.random(n) * (child_max + 1))
    age = np.where(role == HEAD, base, np.where(role == PARTNER, partner, child))

    # Twins: the children at positions 2 and 3 of ~1% of households.
    eligible = (position == 3) & (role == CHILD) & (np.roll(role, 1) == CHILD)
    rate = min(0.9, TWIN_HOUSEHOLD_RATE * n_hh / max(1, int(eligible.sum())))
    second = np.flatnonzero(eligible & (rng.random(n) < rate))
    first = second - 1
    age[second] = age[first]
    twin_of = np.full(n, -1, dtype=np.int64)
    twin_of[second] = first
    twin_of[first] = second
    return age, twin_of


def _males(rng: np.random.Generator, household_id: np.ndarray, role: np.ndarray) -> np.ndarray:
    n = len(role)
    u = rng.random(n)
    head_male = u[np.flatnonzero(role == HEAD)] < 0.5  # one head per household, in order
    opposite = rng.random(n) < 0.95
    head = head_male[household_id]
    male = np.where(role == PARTNER, np.where(opposite, ~head, head), u < 0.5)
    return np.where(role == HEAD, head, male)


_GIVEN = pl.Series("given", [*N.MALE_GIVEN, *N.FEMALE_GIVEN], dtype=pl.String)
_SURNAMES = pl.Series("surname", N.SURNAMES, dtype=pl.String)


def _pick_names(u: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Indices into _GIVEN, Zipf-weighted within each sex."""
    m = weighted_index(u, N.zipf_weights(len(N.MALE_GIVEN), exponent=1.1, offset=6))
    f = weighted_index(u, N.zipf_weights(len(N.FEMALE_GIVEN), exponent=1.1, offset=6))
    return np.where(male, m, len(N.MALE_GIVEN) + f)


def _given_names(rng: np.random.Generator, male: np.ndarray, twin_of: np.ndarray) -> pl.Series:
    idx = _pick_names(rng.random(len(male)), male)
    # A twin never shares the other twin's given name.
    second = np.flatnonzero((twin_of >= 0) & (twin_of < np.arange(len(male))))
    clash = second[idx[second] == idx[twin_of[second]]]
    idx[clash] = np.where(idx[clash] + 1 < len(_GIVEN), idx[clash] + 1, idx[clash] - 1)
    return _GIVEN.gather(idx).alias("given_name")


def _middle_names(rng: np.random.Generator, male: np.ndarray, given: pl.Series) -> pl.Series:
    """~44% one middle name, ~6% two; a middle name equal to the given name is redrawn once."""
    n = len(male)
    u = rng.random(n)
    first = _GIVEN.gather(_pick_names(rng.random(n), male))
    alt = _GIVEN.gather(_pick_names(rng.random(n), male))
    first = pl.select(pl.when(first == given).then(alt).otherwise(first)).to_series()
    second = _GIVEN.gather(_pick_names(rng.random(n), male))
    two = pl.select(pl.format("{} {}", first, second)).to_series()
    out = pl.select(pl.when(pl.lit(pl.Series(u < 0.06))).then(two).otherwise(first)).to_series()
    return nullable("middle_names", out, u < 0.50, pl.String())


def _family_names(rng: np.random.Generator, n_households: int) -> pl.Series:
    """One surname per household (~1.5% double-barrelled), Zipf-weighted."""
    weights = N.zipf_weights(len(_SURNAMES), exponent=1.0, offset=10)
    a = weighted_index(rng.random(n_households), weights)
    b = weighted_index(rng.random(n_households), weights)
    double = (rng.random(n_households) < 0.015) & (a != b)
    sa, sb = _SURNAMES.gather(a), _SURNAMES.gather(b)
    barrel = pl.select(pl.format("{}-{}", sa, sb)).to_series()
    return pl.select(pl.when(pl.lit(pl.Series(double))).then(barrel).otherwise(sa)).to_series()


def _previous_family_names(
    rng: np.random.Generator, role: np.ndarray, male: np.ndarray, adult: np.ndarray
) -> pl.Series:
    """~10% of adults were known by another family name (mostly wives' maiden names)."""
    n = len(role)
    rate = np.where((role == PARTNER) & ~male, 0.45, 0.02)
    maiden = _SURNAMES.gather(
        weighted_index(rng.random(n), N.zipf_weights(len(_SURNAMES), offset=10))
    )
    return nullable("previous_family_name", maiden, adult & (rng.random(n) < rate), pl.String())


def make_addresses(
    rng: np.random.Generator, n: int, town: np.ndarray | None = None
) -> pl.DataFrame:
    """`n` random addresses (in the given towns rows of N.TOWNS, else weighted by size)."""
    towns = N.TOWNS
    if town is None:
        town = weighted_index(rng.random(n), [t[5] for t in towns])
    lo = np.array([t[2] for t in towns])[town]
    hi = np.array([t[3] for t in towns])[town]
    district = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    letters = pl.Series(list(N.INWARD_LETTERS), dtype=pl.String)
    inward = pl.select(
        pl.format(
            "{}{}{}",
            pl.lit(pl.Series(rng.integers(0, 10, size=n))),
            pl.lit(letters.gather(rng.integers(0, len(letters), size=n))),
            pl.lit(letters.gather(rng.integers(0, len(letters), size=n))),
        )
    ).to_series()
    flat = np.where(rng.random(n) < 0.12, rng.integers(1, 30, size=n), -1)
    return pl.DataFrame(
        {
            "house_number": rng.integers(1, 250, size=n).astype(np.int64),
            "street_name": pl.Series(N.STREETS).gather(rng.integers(0, len(N.STREETS), size=n)),
            "street_type": pl.Series(N.STREET_TYPES).gather(
                rng.integers(0, len(N.STREET_TYPES), size=n)
            ),
            "flat_number": nullable("flat_number", flat, flat >= 0),
            "town_index": town.astype(np.int64),
            "district": district,
            "inward": inward,
        }
    ).select(
        pl.format("{} {} {}", "house_number", "street_name", "street_type").alias("line_1"),
        pl.format("Flat {}", "flat_number").alias("flat"),
        "house_number",
        "street_name",
        "street_type",
        pl.col("town_index")
        .replace_strict({i: t[0] for i, t in enumerate(towns)}, return_dtype=pl.String)
        .alias("town"),
        pl.format(
            "{}{} {}",
            pl.col("town_index").replace_strict(
                {i: t[1] for i, t in enumerate(towns)}, return_dtype=pl.String
            ),
            "district",
            "inward",
        ).alias("postcode"),
        "town_index",
    )


def _initial_addresses(
    rng: np.random.Generator, n_households: int
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    addresses = make_addresses(rng, n_households)
    moved = np.flatnonzero(rng.random(n_households) < PREVIOUS_ADDRESS_RATE)
    # Most moves are within the same town.
    same_town = rng.random(len(moved)) < 0.7
    towns = addresses["town_index"].to_numpy()[moved]
    other = weighted_index(rng.random(len(moved)), [t[5] for t in N.TOWNS])
    old = make_addresses(rng, len(moved), np.where(same_town, towns, other))
    previous = np.full(n_households, -1, dtype=np.int64)
    previous[moved] = n_households + np.arange(len(moved))
    return pl.concat([addresses, old]), np.arange(n_households), previous


def _landline_numbers(
    rng: np.random.Generator, town_index: np.ndarray, taken: pl.Series | None = None
) -> pl.DataFrame:
    """Geographic numbers in each town's dialling code, E.164 and national format, unique
    among themselves and against `taken` (E.164 numbers already in use)."""
    n = len(town_index)
    code = pl.Series([t[4] for t in N.TOWNS], dtype=pl.String).gather(town_index)
    firsts = pl.Series(
        [N.LOCAL_FIRST_DIGITS.get(t[4], N.DEFAULT_LOCAL_FIRST_DIGITS) for t in N.TOWNS],
        dtype=pl.String,
    ).gather(town_index)
    taken = taken if taken is not None else pl.Series([], dtype=pl.String)
    frame = pl.DataFrame(
        {
            "code": code,
            "firsts": firsts,
            "pick": rng.random(n),
            "rest": rng.integers(0, 10**7, size=n),
        }
    ).with_columns(
        (11 - pl.col("code").str.len_chars()).alias("len"),
        pl.col("firsts")
        .str.slice((pl.col("pick") * pl.col("firsts").str.len_chars()).cast(pl.Int64), 1)
        .alias("first"),
    )

    def local(rest: pl.Expr) -> pl.Expr:
        return pl.col("first") + rest.cast(pl.String).str.zfill(7).str.slice(0, pl.col("len") - 1)

    frame = frame.with_columns(local(pl.col("rest")).alias("local"))
    # Short local numbers can collide: re-draw the duplicates until every number is unique.
    while True:
        number = pl.format("+44{}{}", pl.col("code").str.slice(1), "local")
        dup = frame.select(number.is_duplicated() | number.is_in(taken.implode())).to_series()
        idx = np.flatnonzero(dup.to_numpy())
        if len(idx) == 0:
            break
        fresh = (
            frame[idx]
            .with_columns(pl.Series("rest", rng.integers(0, 10**7, size=len(idx))))
            .with_columns(local(pl.col("rest")).alias("local"))
        )
        frame = frame.with_columns(frame["local"].clone().scatter(idx, fresh["local"]))
    return frame.select(
        pl.format("+44{}{}", pl.col("code").str.slice(1), "local").alias("e164"),
        pl.when(pl.col("len") == 8)
        .then(
            pl.format(
                "{} {} {}", "code", pl.col("local").str.slice(0, 4), pl.col("local").str.slice(4)
            )
        )
        .when(pl.col("len") == 7)
        .then(
            pl.format(
                "{} {} {}", "code", pl.col("local").str.slice(0, 3), pl.col("local").str.slice(3)
            )
        )
        .otherwise(pl.format("{} {}", "code", "local"))
        .alias("national"),
    )


def _moves(
    seed: int,
    addresses: pl.DataFrame,
    current0: np.ndarray,
    previous0: np.ndarray,
    landline_flag: np.ndarray,
    deliveries: int,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], pl.DataFrame, pl.DataFrame]:
    """Households moving between deliveries: new address, old one becomes previous, new landline.

    Each delivery's moves use their own generator so delivery 0 does not depend on how many
    deliveries are generated.
    """
    n_hh = len(current0)
    towns = addresses["town_index"].to_numpy()
    line_row = np.full(n_hh, -1, dtype=np.int64)
    line_row[landline_flag] = np.arange(int(landline_flag.sum()))
    landlines = _landline_numbers(
        child_rng(seed, "population", "landlines", 0), towns[current0[landline_flag]]
    )
    current, previous, lines = [current0], [previous0], [line_row]
    frames = [addresses]
    n_addr = addresses.height
    for k in range(1, deliveries):
        rng = child_rng(seed, "population", "moves", k)
        movers = np.flatnonzero(rng.random(n_hh) < MOVE_RATE)
        cur, prev, line = current[-1].copy(), previous[-1].copy(), lines[-1].copy()
        old_town = towns[cur[movers]]
        same = rng.random(len(movers)) < 0.7
        new_town = np.where(
            same, old_town, weighted_index(rng.random(len(movers)), [t[5] for t in N.TOWNS])
        )
        new = make_addresses(rng, len(movers), new_town)
        frames.append(new)
        towns = np.concatenate([towns, new_town])
        prev[movers] = cur[movers]
        cur[movers] = n_addr + np.arange(len(movers))
        n_addr += len(movers)
        had_line = movers[line[movers] >= 0]
        line[had_line] = landlines.height + np.arange(len(had_line))
        fresh = _landline_numbers(
            child_rng(seed, "population", "landlines", k), towns[cur[had_line]], landlines["e164"]
        )
        landlines = pl.concat([landlines, fresh])
        current.append(cur)
        previous.append(prev)
        lines.append(line)
    return current, previous, lines, pl.concat(frames), landlines


def _contact_details(
    rng: np.random.Generator,
    frame: pl.DataFrame,
    adult: np.ndarray,
    household_id: np.ndarray,
    deliveries: int,
) -> pl.DataFrame:
    """Mobiles (adults), e-mail (~60%), passport, nationality and mobile-network membership."""
    n = frame.height
    adults = np.flatnonzero(adult)
    mobile_int = unique_integers(rng, len(adults), 0, len(N.MOBILE_SECOND_DIGITS) * 10**8)
    numbers = pl.select(
        pl.format(
            "+447{}{}",
            pl.lit(pl.Series(list(N.MOBILE_SECOND_DIGITS)).gather(mobile_int // 10**8)),
            pl.lit(pl.Series(mobile_int % 10**8)).cast(pl.String).str.zfill(8),
        )
    ).to_series()
    mobile = pl.Series("mobile", dtype=pl.String).extend_constant(None, n)
    if len(adults):
        mobile.scatter(adults, numbers)

    email_kind = rng.integers(0, 4, size=n)
    has_email = adult & (rng.random(n) < EMAIL_RATE)
    domain = pl.Series(N.EMAIL_DOMAINS).gather(rng.integers(0, len(N.EMAIL_DOMAINS), size=n))
    number = rng.integers(1, 999, size=n)

    nat_codes = pl.Series([c for c, _ in N.NATIONALITIES], dtype=pl.String)
    nat_weights = [w for _, w in N.NATIONALITIES]
    hh_nat = weighted_index(rng.random(int(household_id.max()) + 1), nat_weights)
    own_nat = weighted_index(rng.random(n), nat_weights)
    nationality = nat_codes.gather(np.where(rng.random(n) < 0.93, hh_nat[household_id], own_nat))
    passport = unique_integers(rng, n, 10**8, 10**9)

    csp_from = np.where(
        adult & (rng.random(n) < CSP_CUSTOMER_RATE), 0, rng.geometric(CSP_JOIN_RATE, size=n)
    )
    csp_from = np.where(adult & (csp_from < deliveries), csp_from, -1)

    def lower_letters(expr: pl.Expr) -> pl.Expr:
        return expr.str.to_lowercase().str.replace_all(r"[^a-z]", "")

    def clean(col: str) -> pl.Expr:
        return pl.col(f"_{col}")

    kind = pl.col("_email_kind")
    local_part = (
        pl.when(kind == 0)
        .then(pl.format("{}.{}", clean("given_ascii"), clean("family_ascii")))
        .when(kind == 1)
        .then(
            pl.format("{}{}{}", clean("given_ascii").str.slice(0, 1), clean("family_ascii"), "_n")
        )
        .when(kind == 2)
        .then(pl.format("{}.{}{}", clean("family_ascii"), clean("given_ascii"), "_n"))
        .otherwise(pl.format("{}{}", clean("given_ascii"), "_n"))
    )
    out = (
        frame.with_columns(
            F.per_distinct(frame["given_ascii"], lower_letters).alias("_given_ascii"),
            F.per_distinct(frame["family_ascii"], lower_letters).alias("_family_ascii"),
            pl.Series("_email_kind", email_kind),
            pl.Series("_n", number),
            domain.alias("_domain"),
            pl.Series("_has_email", has_email),
        )
        .with_columns(
            mobile,
            pl.when("_has_email").then(pl.format("{}@{}", local_part, "_domain")).alias("email"),
            pl.Series("passport_number", passport).cast(pl.String),
            nationality.alias("nationality"),
            nullable("csp_from", csp_from, csp_from >= 0),
        )
        .drop("_email_kind", "_n", "_domain", "_has_email", "_given_ascii", "_family_ascii")
    )
    # E-mail is a strong identifier, so clashes are made rare: append the person number.
    return out.with_columns(
        pl.when(pl.col("email").is_not_null() & ~pl.col("email").is_first_distinct())
        .then(
            pl.format(
                "{}{}@{}",
                pl.col("email").str.split("@").list.get(0),
                "person_id",
                pl.col("email").str.split("@").list.get(1),
            )
        )
        .otherwise(pl.col("email"))
        .alias("email")
    )
