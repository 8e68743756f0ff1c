"""Chinese reviews: word segmentation (jieba), the Chinese sentiment model's stages, and
keyphrases from segmented words.

The sentiment model is trained on the shop's own star ratings like the English one, on
what works for Chinese: jieba's words (its dictionary ships with the wheel, nothing is
downloaded) and adjacent word pairs, hashed into term frequencies, IDF-weighted, into an
L2-regularised multinomial logistic regression with class weights (Spark MLlib), its
strength chosen by the same selection as the English candidates (insight.nlp.model).
Segmentation runs in a pandas UDF before the model, on Chinese rows only; the model itself
holds only MLlib stages.

Keyphrases are words of two or more characters that jieba's tagger (jieba.posseg) calls a
noun, adjective, idiom or abbreviation, or a verb its dictionary knows (phrase_words), not
stop words (STOP_WORDS), ranked by TF-IDF with jieba's general-corpus IDF: never a single
character, never punctuation, and none of the fragments plain segmentation glues to a
pronoun or particle (我过, 时才). The Chinese topics (LDA) are made of the same words.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import re
from collections import Counter

import pandas as pd
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import IDF, HashingTF, NGram, Normalizer, SQLTransformer
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight.config import NlpConfig

CANDIDATE = "zh_tfidf_logreg"
TOKENS = "zh_tokens"  # array<string>: the review's words, punctuation dropped
PAIRS = "zh_pairs"  # adjacent words, "a b"
TERMS = "zh_terms"  # words and pairs: what the model counts
TERM_FREQUENCIES = "zh_tf"
TF_IDF = "zh_tfidf"

# A token is kept for the model if it holds a letter or digit of any script.
_WORD = re.compile(r"\w")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Function words, pronouns, particles and fillers that are never a review's phrase. Kept
# out of keyphrases only: the sentiment model reads every word (不, 没有 and 太 carry
# the verdict).
STOP_WORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 也 都 就 还 又 而 但 并 很 太 更 最 挺 蛮 比较 非常 特别 十分
    有点 有些 一点 一些 一下 一个 一样 一般 一直 一次 一起 一定 我 你 他 她 它 我们 你们 他们
    她们 大家 自己 这 那 这个 那个 这些 那些 这里 那里 这样 那样 这么 那么 什么 怎么 为什么
    哪里 因为 所以 但是 可是 不过 而且 并且 如果 虽然 然后 还是 或者 就是 只是 只有 已经
    可以 可能 应该 需要 觉得 感觉 认为 知道 没有 不是 还有 真的 其实 当然 确实 总之 总体
    整体 另外 其他 其它 以及 之后 之前 以后 以前 时候 时间 地方 东西 事情 问题 方面 情况
    一天 今天 昨天 明天 每天 一晚 晚上 早上 上午 下午 这次 那次 上次 下次 第一次 我家 回来
    出来 起来 下来 过来 进去 进来 里面 外面 旁边 附近 左右 之类 等等 而已 罢了 吧 吗 呢 啊
    呀 哦 嗯 啦 哈 哈哈 呵呵 嘿嘿 么 嘛 着 过 被 把 给 让 对 向 从 到 为 以 于 按 跟 同 比
    个 些 种 次 位 只 件 条 张 能 会 要 想 去 来 说 做 用 看 让 得 地 所 之 其 此 该 各 每
    """.split()  # noqa: SIM905 (a list literal of 200 words would be 60 lines)
)

_TOKENS_TYPE = T.ArrayType(T.StringType())


def _jieba():
    """jieba, quiet (it logs its dictionary load) and initialised once per Python worker."""
    import jieba

    if not jieba.dt.initialized:
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
    return jieba


def segmenter_version() -> str:
    """What the model's input depends on besides its own stages: the segmenter release."""
    return f"jieba{importlib.metadata.version('jieba')}"


def tokens(text: str | None) -> list[str]:
    """The words of a Chinese (or mixed) text: jieba's segmentation, Latin words lower-cased,
    whitespace, punctuation and emoji dropped.

    Example::

        tokens("房间很大，早餐不好吃！")  # ['房间', '很大', '早餐', '不', '好吃']
    """
    if not text:
        return []
    return [w.lower() for w in _jieba().lcut(text) if _WORD.search(w)]


# jieba.posseg tags a keyphrase can have: nouns of every kind (n, nr, ns, nz, ...), verbal
# and adjectival nouns, adjectives, idioms and set phrases, abbreviations, Latin words.
PHRASE_TAGS = ("n", "vn", "an", "a", "ad", "i", "l", "j", "eng")
# Verbs too, but only those jieba's dictionary lists this often: the tagger calls many
# aspects verbs (包装 packaging, 做工 workmanship, 装修 decor, 上网 internet) and opinions
# too (满意, 失望, 推荐), while the fragments its HMM invents (我过, 来住, 预受) are not
# in the dictionary at all.
VERB_MIN_FREQUENCY = 50


def phrase_words(text: str | None) -> list[str]:
    """The words of a text that could be keyphrases or topic terms: tagged PHRASE_TAGS, or
    a verb of jieba's dictionary (VERB_MIN_FREQUENCY), and `is_phrase`.

    Example::

        phrase_words("空调坏了，包装很差，我过得不好")  # ['空调', '包装']
    """
    if not text:
        return []
    from jieba import posseg

    known = _jieba().dt.FREQ

    def wanted(word: str, tag: str) -> bool:
        if tag == "v":
            return known.get(word, 0) >= VERB_MIN_FREQUENCY
        return tag in PHRASE_TAGS or tag.startswith("n")

    return [
        w.word.lower()
        for w in posseg.lcut(text)
        if wanted(w.word, w.flag) and is_phrase(w.word.lower())
    ]


@functools.cache
def _english_stop_words() -> frozenset[str]:
    # A Chinese review often carries an English phrase ("would buy again"): its brand and
    # content words may be phrases, its function words (it, would, your) never are.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def is_phrase(word: str) -> bool:
    """Could this (lower-case) word be a keyphrase: two or more characters, with a Han
    character or a Latin letter (not digits alone), not a Chinese or English stop word."""
    return (
        len(word) >= 2
        and word not in STOP_WORDS
        and bool(_HAN.search(word) or re.search(r"[a-z]", word))
        and word not in _english_stop_words()
    )


_IDF: tuple[dict[str, float], float] | None = None


def _idf() -> tuple[dict[str, float], float]:
    """jieba's general-corpus IDF table and its median (for words it does not list)."""
    global _IDF
    if _IDF is None:
        _jieba()
        from jieba.analyse import TFIDF

        table = TFIDF()
        _IDF = (table.idf_freq, table.median_idf)
    return _IDF


def keyphrases(words: list[str], n: int) -> list[tuple[str, float]]:
    """The `n` best keyphrases among a review's `words` (its `phrase_words`) as (phrase,
    score), best first; the score is 1 / TF-IDF, so lower is better as for the English
    keyphrases (YAKE)."""
    counts = Counter(w for w in words if is_phrase(w))
    if not counts:
        return []
    idf, median = _idf()
    total = sum(counts.values())
    weights = {w: c / total * idf.get(w, median) for w, c in counts.items()}
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [(w, 1.0 / weight) for w, weight in ranked]


@F.pandas_udf(_TOKENS_TYPE)
def _segment(texts: pd.Series) -> pd.Series:
    return pd.Series([tokens(t) for t in texts])


_KEYPHRASES_TYPE = T.ArrayType(
    T.StructType([T.StructField("phrase", T.StringType()), T.StructField("score", T.DoubleType())])
)


def _keyphrases_udf(n: int):
    @F.pandas_udf(_KEYPHRASES_TYPE)
    def best(words: pd.Series) -> pd.Series:
        return pd.Series(
            [[{"phrase": p, "score": s} for p, s in keyphrases(list(w), n)] for w in words]
        )

    return best


@F.pandas_udf(_TOKENS_TYPE)
def _phrase_words(texts: pd.Series) -> pd.Series:
    return pd.Series([phrase_words(t) for t in texts])


def segmented(text: Column) -> Column:
    """The TOKENS of a text column (a pandas UDF running jieba)."""
    return _segment(text)


def with_tokens(df: DataFrame, text_col: str) -> DataFrame:
    return df.withColumn(TOKENS, segmented(F.col(text_col)))


def phrase_words_of(text: Column) -> Column:
    """The `phrase_words` of a text column: what keyphrases and topics are made of (the
    model's TOKENS keep verbs and particles on purpose, these must not)."""
    return _phrase_words(text)


def keyphrases_of(words: Column, n: int) -> Column:
    """array<struct<phrase, score>> of a `phrase_words_of` column, best (lowest score)
    first."""
    return _keyphrases_udf(n)(words)


def stages(cfg: NlpConfig, reg_param: float, thresholds: list[float], common: dict) -> list:
    """Words and adjacent word pairs (不_好 is not 好) -> hashed term frequencies -> IDF ->
    unit length -> logistic regression, unstandardised (TF-IDF is already on one scale; on
    the hotel reviews this matched scikit-learn's TF-IDF logistic regression). `common`
    holds the column and label settings every logistic-regression head shares
    (insight.nlp.sentiment). Every stage is a native MLlib one."""
    return [
        NGram(n=2, inputCol=TOKENS, outputCol=PAIRS),
        SQLTransformer(statement=f"SELECT *, concat({TOKENS}, {PAIRS}) AS {TERMS} FROM __THIS__"),
        HashingTF(inputCol=TERMS, outputCol=TERM_FREQUENCIES, numFeatures=cfg.zh_hash_features),
        IDF(inputCol=TERM_FREQUENCIES, outputCol=TF_IDF, minDocFreq=cfg.zh_min_doc_freq),
        Normalizer(p=2.0, inputCol=TF_IDF, outputCol=common["featuresCol"]),
        LogisticRegression(regParam=reg_param, thresholds=thresholds, standardization=False,
                           **common),
    ]  # fmt: skip
