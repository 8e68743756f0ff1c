"""Review text made ready for NLP, and a defined outcome for text that cannot be scored.

Every review gets a `language` and a `text_status`. The language comes from script
statistics, which work on a review of two characters as well as on a page: `zh` when its
Han characters outweigh its other letters (one character counting as HAN_WEIGHT letters,
since a Chinese word is one or two characters and an English one five letters; text with
Japanese kana is not `zh`), `en` when most letters are Latin (every Latin-script review is
read by the English model, as before), `other` for the rest, letterless text included.

Scorable text is `ok`, `markup_removed` (HTML tags and scripts stripped) or `truncated`
(scored on its first `max_text_chars` characters); `empty`, `no_words` (emoji, digits,
punctuation; a Chinese review needs one Han character, any other `min_letters` letters)
and `non_latin` (language `other`: no model reads it) get the label `unknown` instead.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight.config import NlpConfig

TEXT = "nlp_text"  # title and body, cleaned: what the models read
TEXT_STATUS = "text_status"
LANGUAGE = C.LANGUAGE

EN, ZH, OTHER = "en", "zh", "other"
LANGUAGES = (EN, ZH, OTHER)
# One Han character weighs as much as this many letters of other scripts (see above):
# "iPhone 很好用" is Chinese, "Great speaker, 很好" English.
HAN_WEIGHT = 3

OK = "ok"
MARKUP_REMOVED = "markup_removed"
TRUNCATED = "truncated"
EMPTY = "empty"
NO_WORDS = "no_words"
NON_LATIN = "non_latin"
SCORABLE = (OK, MARKUP_REMOVED, TRUNCATED)
UNSCORABLE = (EMPTY, NO_WORDS, NON_LATIN)

# Script and style blocks hold no opinion; their content goes with their tags.
_BLOCKS = r"(?is)<(script|style)\b[^>]*>.*?(</\1\s*>|$)"
_TAGS = r"(?s)<\s*/?\s*[a-zA-Z!][^>]*>"
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " "}


def review_text(title: Column, body: Column) -> Column:
    """Title and body as one text: the title often carries the verdict ("Broke in a week")."""
    return F.concat_ws(". ", F.nullif(F.trim(title), F.lit("")), F.trim(body))


def strip_markup(text: Column) -> Column:
    """Remove HTML/script markup and decode the common entities."""
    out = F.regexp_replace(F.regexp_replace(text, _BLOCKS, " "), _TAGS, " ")
    for entity, char in _ENTITIES.items():
        out = F.replace(out, F.lit(entity), F.lit(char))
    return out


def language(letters: Column, latin: Column, han: Column, kana: Column, min_latin_share: float
             ) -> Column:  # fmt: skip
    """`zh`, `en` or `other` from a text's letter counts (all letters, Latin, Han, kana)."""
    return (
        F.when((han > 0) & (kana == 0) & (han * HAN_WEIGHT >= letters - han), ZH)
        .when((letters > 0) & (latin >= letters * min_latin_share), EN)
        .otherwise(OTHER)
    )


def with_nlp_text(df: DataFrame, cfg: NlpConfig) -> DataFrame:
    """Add `nlp_text` (clean, whitespace-collapsed, at most `max_text_chars`), `language`
    and `text_status` from the review's title and text."""
    raw = review_text(F.col(C.TITLE), F.col(C.REVIEW_TEXT))
    stripped = strip_markup(raw)
    # Staged columns: Spark would otherwise evaluate the regexes once per use below.
    staged = df.withColumn("_markup", stripped != raw).withColumn(
        "_squashed", F.trim(F.regexp_replace(stripped, r"\s+", " "))
    )
    squashed = F.col("_squashed")

    def count(chars: str) -> Column:
        return F.length(F.regexp_replace(squashed, f"[^{chars}]", ""))

    staged = staged.withColumns(
        {"_letters": count(r"\p{L}"), "_latin": count(r"\p{IsLatin}"), "_han": count(r"\p{IsHan}")}
    )
    letters, latin, han = F.col("_letters"), F.col("_latin"), F.col("_han")
    # Kana only matter in text with Han characters (Japanese): not counted in the rest.
    staged = staged.withColumn(
        "_kana", F.when(han > 0, count(r"\p{IsHiragana}\p{IsKatakana}")).otherwise(0)
    )
    staged = staged.withColumn(
        LANGUAGE, language(letters, latin, han, F.col("_kana"), cfg.min_latin_share)
    )
    chinese = F.col(LANGUAGE) == ZH
    status = (
        F.when(F.coalesce(F.length(squashed), F.lit(0)) == 0, EMPTY)
        .when(~chinese & (letters < cfg.min_letters), NO_WORDS)
        .when(F.col(LANGUAGE) == OTHER, NON_LATIN)
        .when(F.length(squashed) > cfg.max_text_chars, TRUNCATED)
        .when(F.col("_markup"), MARKUP_REMOVED)
        .otherwise(OK)
    )
    return (
        staged.withColumn(TEXT, F.substring(squashed, 1, cfg.max_text_chars))
        .withColumn(TEXT_STATUS, status)
        .drop("_markup", "_squashed", "_letters", "_latin", "_han", "_kana")
    )


def scorable(df: DataFrame) -> DataFrame:
    return df.where(F.col(TEXT_STATUS).isin(*SCORABLE))
