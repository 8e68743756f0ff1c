"""Review text made ready for NLP, and a defined outcome for text that cannot be scored.

Every review gets a `text_status`: scorable text is `ok`, `markup_removed` (HTML tags
and scripts stripped) or `truncated` (scored on its first `max_text_chars` characters);
`empty`, `no_words` (emoji, digits, punctuation) and `non_latin` (mostly non-Latin
letters; the models are trained on English reviews) get the label `unknown` instead.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight.config import NlpConfig

TEXT = "nlp_text"  # title and body, cleaned: what the models read
TEXT_STATUS = "text_status"

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


def with_nlp_text(df: DataFrame, cfg: NlpConfig) -> DataFrame:
    """Add `nlp_text` (clean, whitespace-collapsed, at most `max_text_chars`) and
    `text_status` from the review's title and text."""
    raw = review_text(F.col(C.TITLE), F.col(C.REVIEW_TEXT))
    stripped = strip_markup(raw)
    # Staged columns: Spark would otherwise evaluate the regexes once per use below.
    staged = df.withColumn("_markup", stripped != raw).withColumn(
        "_squashed", F.trim(F.regexp_replace(stripped, r"\s+", " "))
    )
    squashed = F.col("_squashed")
    staged = staged.withColumn(
        "_letters", F.length(F.regexp_replace(squashed, r"[^\p{L}]", ""))
    ).withColumn("_latin", F.length(F.regexp_replace(squashed, r"[^\p{IsLatin}]", "")))
    letters, latin = F.col("_letters"), F.col("_latin")
    status = (
        F.when(F.coalesce(F.length(squashed), F.lit(0)) == 0, EMPTY)
        .when(letters < cfg.min_letters, NO_WORDS)
        .when(latin < letters * cfg.min_latin_share, NON_LATIN)
        .when(F.length(squashed) > cfg.max_text_chars, TRUNCATED)
        .when(F.col("_markup"), MARKUP_REMOVED)
        .otherwise(OK)
    )
    return (
        staged.withColumn(TEXT, F.substring(squashed, 1, cfg.max_text_chars))
        .withColumn(TEXT_STATUS, status)
        .drop("_markup", "_squashed", "_letters", "_latin")
    )


def scorable(df: DataFrame) -> DataFrame:
    return df.where(F.col(TEXT_STATUS).isin(*SCORABLE))
