"""Whole-value corruption for a noise profile (rates and tags in `transforms.generate.profiles`).

A `Hostile` is made per rendering (`Context.hostile`), beside the dataset's `Noiser`, and is
applied after the dataset's own noise, before values are formatted. Its draws are the Noiser's
per-record streams under slots of their own (`hostile:...`), so every record's default noise is
the same under every profile and the same seed gives the same corruption. A profile without
rates (`default`) changes nothing, draws nothing and records nothing.

Replacement values are another person's: a person drawn uniformly from the whole population (at
that delivery) other than the record's own, among those who have a value for the field.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from transforms.generate.noise import Noiser
from transforms.generate.profiles import NoiseProfile
from transforms.generate.rand import weighted_index

# OCR confusions, applied to upper-case text (names before formatting, postcodes as delivered):
# one confusion per corrupted value, chosen among those the value offers.
OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("O", "0"),
    ("0", "O"),
    ("I", "1"),
    ("1", "I"),
    ("L", "1"),
    ("1", "L"),
    ("S", "5"),
    ("5", "S"),
    ("B", "8"),
    ("8", "B"),
    ("Z", "2"),
    ("2", "Z"),
    ("G", "6"),
    ("6", "G"),
    ("RN", "M"),
    ("M", "RN"),
    ("CL", "D"),
    ("D", "CL"),
    ("VV", "W"),
    ("W", "VV"),
)
DOB_DIGITS = (0.6, 0.3, 0.1)  # 1, 2 or 3 digits of YYYYMMDD wrong
DOB_ATTEMPTS = 8  # draws tried for a valid date with wrong digits (else the date stays right)
YEAR_OFFSETS = 10  # a wrong year is 1..10 years off
EARLIEST_DOB = date(1900, 1, 1)
_POW = 10 ** np.arange(7, -1, -1, dtype=np.int64)  # digit weights of YYYYMMDD


def _plain(s: pl.Series) -> pl.Series:
    """Text compared without case, spaces or punctuation ("ls1 4ab" is "LS1 4AB")."""
    return s.str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "") if s.dtype == pl.String else s


def _scatter(s: pl.Series, idx: np.ndarray, values: pl.Series | None) -> pl.Series:
    out = s.clone()
    if len(idx):
        out.scatter(idx, values)
    return out


def _month_start(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    return ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]")


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    start = _month_start(year, np.clip(month, 1, 12))
    return ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)


class Hostile:
    """One rendering's whole-value corruption; every method returns its input if inactive."""

    def __init__(
        self,
        nz: Noiser,
        profile: NoiseProfile,
        donors: pl.DataFrame,
        person_id: np.ndarray,
        latest: date,
        *,
        town: bool,
    ) -> None:
        """`donors`: the population at the delivery (row i is person i); `person_id`: each
        record's person; `latest`: the delivery date (no date of birth after it); `town`: the
        dataset delivers a town, so a record can be reduced to its name and town."""
        self.nz = nz
        self.profile = profile
        self.donors = donors
        self.person_id = np.asarray(person_id, dtype=np.int64)
        self.latest = np.datetime64(latest.isoformat(), "D")
        self.active = profile.active
        self.sparse = np.zeros(nz.n, dtype=bool)
        if self.active and town:
            self.sparse = nz.mask("hostile:name_and_town_only", profile.name_and_town_only)
            nz.log.add("name_and_town_only", self.sparse)

    # --- fields ----------------------------------------------------------------------------

    def names(
        self, given: pl.Series, middle: pl.Series | None, family: pl.Series
    ) -> tuple[pl.Series, pl.Series | None, pl.Series]:
        """Given name replaced or OCR'd, family name OCR'd, middle names missing (or dropped
        with the rest of a name-and-town-only record), given and family swapped."""
        if not self.active:
            return given, middle, family
        p = self.profile
        replace, ocr = self._kinds(
            "given_name", given.is_not_null().to_numpy(), (p.given_name_replaced, p.ocr)
        )
        given = self._replace(given, replace, "given_name", "given_name_replaced")
        given = self._ocr(given, ocr, "ocr_given_name")
        (family_ocr,) = self._kinds("family_name", family.is_not_null().to_numpy(), (p.ocr,))
        family = self._ocr(family, family_ocr, "ocr_family_name")
        if middle is not None:
            middle = self.missing(middle, "middle_names", "middle_name_missing")
        # Never swap back a record the dataset's own noise already swapped.
        swap = self.nz.mask("hostile:swapped_names", p.names_swapped) & ~self.nz.log.has(
            "swapped_names"
        )
        self.nz.log.add("swapped_names", swap)
        m = pl.Series(swap)
        return (
            pl.select(pl.when(pl.lit(m)).then(family).otherwise(given))
            .to_series()
            .alias(given.name),
            middle,
            pl.select(pl.when(pl.lit(m)).then(given).otherwise(family))
            .to_series()
            .alias(family.name),
        )

    def dob(self, dob: pl.Series) -> pl.Series:
        """Another person's date of birth, 1-3 digits wrong, a wrong year, or missing."""
        if not self.active:
            return dob
        p = self.profile
        replace, digits, year, missing = self._kinds(
            "date_of_birth",
            dob.is_not_null().to_numpy() & ~self.sparse,
            (p.dob_replaced, p.dob_digits_wrong, p.dob_year_wrong, p.field_missing),
        )
        dob = self._replace(dob, replace, "date_of_birth", "dob_replaced")
        dob = self._dob_digits(dob, digits)
        dob = self._dob_year(dob, year)
        dob = self._blank(dob, missing, "dob_missing")
        return self._blank(dob, self.sparse)

    def postcode(self, postcode: pl.Series) -> pl.Series:
        """Another person's postcode, an OCR confusion, or missing."""
        if not self.active:
            return postcode
        p = self.profile
        replace, ocr, missing = self._kinds(
            "postcode",
            postcode.is_not_null().to_numpy() & ~self.sparse,
            (p.postcode_replaced, p.ocr, p.field_missing),
        )
        postcode = self._replace(postcode, replace, "postcode", "postcode_replaced")
        postcode = self._ocr(postcode, ocr, "ocr_postcode")
        postcode = self._blank(postcode, missing, "postcode_missing")
        return self._blank(postcode, self.sparse)

    def phone(self, phone: pl.Series, column: str) -> pl.Series:
        """Another person's phone (their `column` of the population: `mobile`, an E.164, or
        `landline_national`), or missing."""
        if not self.active:
            return phone
        p = self.profile
        replace, missing = self._kinds(
            "phone",
            phone.is_not_null().to_numpy() & ~self.sparse,
            (p.phone_replaced, p.field_missing),
        )
        phone = self._replace(phone, replace, column, "phone_replaced")
        phone = self._blank(phone, missing, "phone_missing")
        return self._blank(phone, self.sparse)

    def missing(self, s: pl.Series, field: str, tag: str) -> pl.Series:
        """An optional field (e-mail, middle names) missing at the profile's rate."""
        if not self.active:
            return s
        (missing,) = self._kinds(
            field, s.is_not_null().to_numpy() & ~self.sparse, (self.profile.field_missing,)
        )
        return self._blank(self._blank(s, missing, tag), self.sparse)

    def unless_sparse(self, s: pl.Series) -> pl.Series:
        """Empty on a name-and-town-only record (address lines, handsets ...)."""
        return self._blank(s, self.sparse) if self.active else s

    # --- mechanics -------------------------------------------------------------------------

    def _kinds(self, field: str, present: np.ndarray, rates: tuple[float, ...]) -> list[np.ndarray]:
        """Mutually exclusive masks, one per rate, over the records where `present`: one
        uniform per record and field, cut at the cumulated rates."""
        u = self.nz.draws.uniform(f"hostile:{field}")
        out, low = [], 0.0
        for high in np.cumsum(rates):
            out.append(present & (u >= low) & (u < high))
            low = float(high)
        return out

    def _blank(self, s: pl.Series, mask: np.ndarray, tag: str | None = None) -> pl.Series:
        idx = np.flatnonzero(mask & s.is_not_null().to_numpy())
        if tag is not None:
            self.nz.log.add(tag, idx)
        return _scatter(s, idx, None)

    def _donor_values(self, column: str, idx: np.ndarray) -> pl.Series:
        """For the records at `idx`, `column` of a random other person who has a value."""
        pool = self.donors[column]
        have = np.flatnonzero(pool.is_not_null().to_numpy())
        if len(have) < 2:
            return pl.Series(column, [None] * len(idx), dtype=pool.dtype)
        pos = self.nz.draws.subset(idx).integers(f"hostile:{column}:donor", 0, len(have))
        own = have[pos] == self.person_id[idx]
        pos = np.where(own, (pos + 1) % len(have), pos)
        return pool.gather(have[pos])

    def _replace(self, s: pl.Series, mask: np.ndarray, column: str, tag: str) -> pl.Series:
        """Another person's value where `mask`; recorded where the value really changed."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return s
        donor = self._donor_values(column, idx).cast(s.dtype)
        changed = (_plain(donor) != _plain(s.gather(idx))).fill_null(False).to_numpy()
        self.nz.log.add(tag, idx[changed])
        return _scatter(s, idx[changed], donor.filter(pl.Series(changed)))

    def _ocr(self, s: pl.Series, mask: np.ndarray, tag: str) -> pl.Series:
        """One OCR confusion per masked value, chosen among those the (upper-case) value offers;
        a value offering none stays as it is and is not recorded."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return s
        sub = s.gather(idx)
        upper = sub.str.to_uppercase()
        offers = np.column_stack(
            [
                upper.str.contains(a, literal=True).fill_null(False).to_numpy()
                for a, _ in OCR_CONFUSIONS
            ]
        )
        count = offers.sum(axis=1)
        nth = np.floor(self.nz.draws.subset(idx).uniform(f"hostile:{tag}:which") * count)
        choice = np.argmax(np.cumsum(offers, axis=1) > nth[:, None], axis=1)
        new = upper.clone()
        for c, (a, b) in enumerate(OCR_CONFUSIONS):
            rows = np.flatnonzero((count > 0) & (choice == c))
            if len(rows):
                new.scatter(rows, upper.gather(rows).str.replace(a, b, literal=True, n=1))
        hit = count > 0
        self.nz.log.add(tag, idx[hit])
        return _scatter(s, idx[hit], new.filter(pl.Series(hit)))

    def _valid(self, year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
        ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= _days_in_month(year, month))
        ok &= year >= EARLIEST_DOB.year
        when = _month_start(year, np.clip(month, 1, 12)).astype("datetime64[D]") + (
            np.clip(day, 1, 31) - 1
        ).astype("timedelta64[D]")
        return ok & (when <= self.latest)

    @staticmethod
    def _dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> pl.Series:
        start = _month_start(year, month).astype("datetime64[D]")
        return pl.Series(start + (day - 1).astype("timedelta64[D]")).cast(pl.Date)

    def _parts(self, dob: pl.Series, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        d = dob.gather(idx)
        return tuple(x.cast(pl.Int64).to_numpy() for x in (d.dt.year(), d.dt.month(), d.dt.day()))

    def _dob_digits(self, dob: pl.Series, mask: np.ndarray) -> pl.Series:
        """1-3 digits of YYYYMMDD replaced by other digits, keeping a valid date of birth."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return dob
        y, m, d = self._parts(dob, idx)
        digits = ((y * 10_000 + m * 100 + d)[:, None] // _POW[None, :]) % 10
        draws = self.nz.draws.subset(idx)
        found = np.full(len(idx), -1, dtype=np.int64)
        for a in range(DOB_ATTEMPTS):
            slot = f"hostile:dob_digits:{a}"
            count = 1 + weighted_index(draws.uniform(f"{slot}:count"), DOB_DIGITS)
            order = np.column_stack([draws.uniform(f"{slot}:order{i}") for i in range(8)])
            rank = np.argsort(np.argsort(order, axis=1), axis=1)
            bump = np.column_stack(
                [1 + np.floor(draws.uniform(f"{slot}:digit{i}") * 9) for i in range(8)]
            ).astype(np.int64)
            new = np.where(rank < count[:, None], (digits + bump) % 10, digits)
            value = new @ _POW
            ny, nm, nd = value // 10_000, value // 100 % 100, value % 100
            ok = (found < 0) & self._valid(ny, nm, nd)
            found[ok] = value[ok]
        hit = found >= 0
        self.nz.log.add("dob_digits_wrong", idx[hit])
        v = found[hit]
        return _scatter(dob, idx[hit], self._dates(v // 10_000, v // 100 % 100, v % 100))

    def _dob_year(self, dob: pl.Series, mask: np.ndarray) -> pl.Series:
        """The year 1-10 years off (earlier if later would be in the future); 29 February
        becomes the 28th in a year without it."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return dob
        y, m, d = self._parts(dob, idx)
        draws = self.nz.draws.subset(idx)
        offset = 1 + np.floor(draws.uniform("hostile:dob_year:offset") * YEAR_OFFSETS).astype(
            np.int64
        )
        sign = np.where(draws.uniform("hostile:dob_year:sign") < 0.5, -1, 1)
        found = np.full(len(idx), -1, dtype=np.int64)
        for s in (sign, -sign):
            ny = y + s * offset
            nd = np.minimum(d, _days_in_month(ny, m))
            ok = (found < 0) & self._valid(ny, m, nd)
            found[ok] = (ny * 10_000 + m * 100 + nd)[ok]
        hit = found >= 0
        self.nz.log.add("dob_year_wrong", idx[hit])
        v = found[hit]
        return _scatter(dob, idx[hit], self._dates(v // 10_000, v // 100 % 100, v % 100))
