"""The legal table: which article of the КоАП РК a traffic violation falls under, its fine in
MRP, and what that is in tenge on the day of the offence.

Amounts, articles and the MRP are data (``reference/kz-legal.toml``, or a deployment's own
copy), never constants in code: a new budget law or an amended article is a data update.

Example:
    >>> from datetime import date
    >>> table = load_legal_table()
    >>> fine = table.speeding(limit_kmh=60, measured_kmh=87, on=date(2026, 3, 1))
    >>> fine.article, fine.part, fine.fine_mrp, fine.fine_tenge
    ('592', '2', 10.0, 43250)
    >>> table.mrp_on(date(2025, 12, 31)).tenge
    3932
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kupol.core.errors import InvalidInputError
from kupol.core.reference import load_rules

DEFAULT_TABLE = Path(__file__).with_name("reference") / "kz-legal.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MrpPeriod(_Frozen):
    """The MRP in force from ``start`` until the next period starts."""

    start: date = Field(alias="from", description="First day the amount applies.")
    tenge: int = Field(gt=0, description="One MRP in tenge.")
    source: str = Field(min_length=1, description="The law that sets it.")


class Discount(_Frozen):
    """A fine paid within ``days`` of the notice is paid at ``share`` of its amount."""

    share: float = Field(gt=0, lt=1)
    days: int = Field(gt=0)
    source: str = Field(min_length=1)


class Band(_Frozen):
    """One part of a graded article: an excess above ``over_kmh`` up to ``up_to_kmh``."""

    part: str = Field(min_length=1)
    over_kmh: float = Field(ge=0, description="Excluded lower bound of the excess.")
    up_to_kmh: float | None = Field(default=None, description="Included upper bound; none: open.")
    fine_mrp: float = Field(gt=0)

    @model_validator(mode="after")
    def _upper_above_lower(self) -> Self:
        if self.up_to_kmh is not None and self.up_to_kmh <= self.over_kmh:
            raise ValueError(f"band {self.part}: up_to_kmh must be above over_kmh")
        return self


class Article(_Frozen):
    """An article for one kind of offence: a fixed fine, or bands by excess speed."""

    offence: str = Field(min_length=1, description="kupol's name of the offence.")
    code: str = Field(min_length=1, description="Article number of the КоАП РК.")
    title: str = Field(min_length=1)
    discount: bool = Field(description="Whether the early-payment discount applies.")
    fine_mrp: float | None = Field(default=None, gt=0)
    bands: tuple[Band, ...] = ()

    @model_validator(mode="after")
    def _one_kind_of_fine(self) -> Self:
        if self.fine_mrp is not None and self.bands:
            raise ValueError(f"article {self.code}: give either fine_mrp or bands, not both")
        if self.fine_mrp is None and not self.bands:
            raise ValueError(f"article {self.code}: give a fine_mrp or bands")
        for before, after in zip(self.bands, self.bands[1:], strict=False):
            if before.up_to_kmh is None or before.up_to_kmh != after.over_kmh:
                raise ValueError(
                    f"article {self.code}: band {after.part} must start where {before.part} ends"
                )
        if self.bands and self.bands[-1].up_to_kmh is not None:
            raise ValueError(f"article {self.code}: the last band must be open-ended")
        return self


class Qualification(_Frozen):
    """A violation's legal qualification on the day it was committed."""

    offence: str
    article: str
    part: str | None
    title: str
    fine_mrp: float
    mrp_tenge: int
    fine_tenge: int
    discount_share: float | None
    discount_days: int | None

    @property
    def discounted_tenge(self) -> int | None:
        """What paying early costs, when the discount applies."""
        if self.discount_share is None:
            return None
        return tenge(self.fine_tenge * self.discount_share)

    def discount_deadline(self, served: date) -> date | None:
        """The last day to pay at the discount for a notice served on ``served``."""
        return None if self.discount_days is None else served + timedelta(days=self.discount_days)


class LegalTable(_Frozen):
    """The MRP by date, the discount rule and the articles kupol's rules qualify."""

    mrp: tuple[MrpPeriod, ...] = Field(min_length=1)
    discount: Discount
    article: tuple[Article, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered_and_unique(self) -> Self:
        starts = [p.start for p in self.mrp]
        if starts != sorted(set(starts)):
            raise ValueError("mrp periods must be listed oldest first, one per start date")
        offences = [a.offence for a in self.article]
        if len(offences) != len(set(offences)):
            raise ValueError("each offence may have one article only")
        return self

    def mrp_on(self, day: date) -> MrpPeriod:
        """The MRP in force on ``day``.

        Raises:
            InvalidInputError: ``day`` is before the first period the table knows.
        """
        known = [p for p in self.mrp if p.start <= day]
        if not known:
            raise InvalidInputError(f"no MRP is known for {day.isoformat()}")
        return known[-1]

    def article_for(self, offence: str) -> Article:
        """The article for ``offence``.

        Raises:
            InvalidInputError: The table has no article for it.
        """
        for article in self.article:
            if article.offence == offence:
                return article
        known = ", ".join(a.offence for a in self.article)
        raise InvalidInputError(f"no article for offence {offence!r} (known: {known})")

    def qualify(self, offence: str, *, on: date) -> Qualification:
        """The qualification of an offence with a fixed fine (red light, failing to yield …)."""
        article = self.article_for(offence)
        if article.fine_mrp is None:
            raise InvalidInputError(f"offence {offence!r} is graded: qualify it with its measure")
        return self._qualification(article, None, article.fine_mrp, on)

    def speeding(self, *, limit_kmh: float, measured_kmh: float, on: date) -> Qualification | None:
        """The qualification of a measured speed over ``limit_kmh``, or ``None`` when the
        excess is within the first band's lower bound (no offence).

        Raises:
            InvalidInputError: A speed or limit is negative or not a number.
        """
        if not (math.isfinite(limit_kmh) and math.isfinite(measured_kmh)):
            raise InvalidInputError("speeds must be finite numbers")
        if limit_kmh <= 0 or measured_kmh < 0:
            raise InvalidInputError("the limit must be positive and the speed not negative")
        article = self.article_for("speeding")
        excess = measured_kmh - limit_kmh
        for band in article.bands:
            if excess > band.over_kmh and (band.up_to_kmh is None or excess <= band.up_to_kmh):
                return self._qualification(article, band.part, band.fine_mrp, on)
        return None

    def _qualification(
        self, article: Article, part: str | None, fine_mrp: float, on: date
    ) -> Qualification:
        mrp = self.mrp_on(on)
        return Qualification(
            offence=article.offence,
            article=article.code,
            part=part,
            title=article.title,
            fine_mrp=fine_mrp,
            mrp_tenge=mrp.tenge,
            fine_tenge=tenge(fine_mrp * mrp.tenge),
            discount_share=self.discount.share if article.discount else None,
            discount_days=self.discount.days if article.discount else None,
        )


def tenge(amount: float) -> int:
    """Whole tenge, halves rounded up (not to even: 0.5 MRP of 4,325 ₸ is 2,163 ₸)."""
    return int(Decimal(repr(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def load_legal_table(path: Path | None = None) -> LegalTable:
    """The legal table from ``path`` (TOML), or the one kupol ships.

    Raises:
        ConfigError: The file is missing, is not TOML, or does not describe a valid table;
            the message names the file and every problem.
    """
    return load_rules(path or DEFAULT_TABLE, LegalTable, "legal table", root="table")
