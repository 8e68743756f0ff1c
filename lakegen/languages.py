"""Which language each review is written in: `en,zh` or `en=0.7,zh=0.3` shares.

A review's language is drawn from its own RNG (one per partition), after its English text
has been drawn from the behaviour RNG as in an English shop: a mixed lake has the same
customers, events, ratings and review ids as the English lake of the same seed, only some
texts are in another language. An English-only lake draws nothing, so its bytes are those
of a lake generated before languages existed.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping
from itertools import accumulate

from .catalog import Product
from .text_zh import review_text_zh

EN, ZH = "en", "zh"
SUPPORTED = {EN: "English", ZH: "Chinese"}
# Shares may be rounded by hand (0.33,0.33,0.34; three times 0.33): they are normalised.
SUM_TOLERANCE = 0.01
SYNTAX = "CODE[=SHARE],... e.g. en,zh (equal shares) or en=0.7,zh=0.3 (shares sum to 1)"


def parse_languages(spec: str) -> dict[str, float]:
    """`en,zh` (equal shares) or `en=0.7,zh=0.3` -> {code: share}, validated.

    Raises ValueError naming the bad part: an unknown code, a share that is not a positive
    number, a code given twice, shares on some codes only, shares not summing to 1.
    """
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise ValueError(f"languages: empty language in {spec!r}; expected {SYNTAX}")
    pairs = [p.partition("=") for p in parts]
    with_share = [sep == "=" for _, sep, _ in pairs]
    if any(with_share) and not all(with_share):
        bare = [code for code, sep, _ in pairs if not sep]
        raise ValueError(
            f"languages: give a share for every language or for none; {', '.join(bare)} "
            f"has none in {spec!r}"
        )
    shares: dict[str, float] = {}
    for code, sep, value in pairs:
        code = code.strip().lower()
        if code in shares:
            raise ValueError(f"languages: {code!r} given twice in {spec!r}")
        if not sep:
            shares[code] = 1.0 / len(pairs)
            continue
        try:
            shares[code] = float(value)
        except ValueError:
            raise ValueError(
                f"languages: share {value.strip()!r} of {code!r} is not a number"
            ) from None
    return check_languages(shares)


def check_languages(languages: object) -> dict[str, float]:
    """A validated, normalised {code: share} (shares summing to 1); ValueError naming the
    bad code or share."""
    if not isinstance(languages, Mapping) or not languages:
        raise ValueError(
            f"languages must be a non-empty mapping of language code to share, got {languages!r}"
        )
    for code, share in languages.items():
        if code not in SUPPORTED:
            known = ", ".join(f"{c} ({name})" for c, name in SUPPORTED.items())
            raise ValueError(f"languages: unknown language code {code!r} (supported: {known})")
        if (
            isinstance(share, bool)
            or not isinstance(share, int | float)
            or not math.isfinite(share)
            or share <= 0
        ):
            raise ValueError(f"languages: share of {code!r} must be a number > 0, got {share!r}")
    total = sum(languages.values())
    if abs(total - 1.0) > SUM_TOLERANCE + 1e-9:  # 0.33 + 0.66 is 0.99 plus a rounding error
        given = ",".join(f"{c}={s:g}" for c, s in languages.items())
        raise ValueError(f"languages: shares must sum to 1, {given} sums to {total:g}")
    return {code: share / total for code, share in languages.items()}


def is_english_only(languages: Mapping[str, float]) -> bool:
    return set(languages) == {EN}


class ReviewLanguages:
    """Rewrites a share of reviews in other languages, with its own RNG."""

    def __init__(self, shares: Mapping[str, float], rng: random.Random) -> None:
        self.codes = tuple(shares)
        self.cumulative = tuple(accumulate(shares.values()))
        self.rng = rng

    def pick(self) -> str:
        i = bisect_right(self.cumulative, self.rng.random() * self.cumulative[-1])
        return self.codes[min(i, len(self.codes) - 1)]

    def write(
        self, rating: int, product: Product, english: tuple[str | None, str]
    ) -> tuple[str | None, str]:
        """(title, text) of a review in its drawn language; `english` if that is English."""
        if self.pick() == ZH:
            return review_text_zh(self.rng, rating, product)
        return english
