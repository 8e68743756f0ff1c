"""Pseudonymisation: salted HMAC-SHA256 computed inside Spark, and the salt's loading.

The salt is a secret: it comes from an environment variable, is never logged, never
written to a table and never part of a query plan. Only `local` may fall back to a
development salt (loudly logged).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from insight.errors import InsightError

log = logging.getLogger(__name__)

# A fixed development salt so local runs are reproducible; never used outside `local`.
DEV_SALT = "insight-development-salt-not-for-production"
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)
_IPAD, _OPAD = "_hmac_ipad", "_hmac_opad"


class MissingSaltError(InsightError):
    """The PII salt environment variable is not set where a real salt is required."""


def load_salt(salt_env: str, *, allow_dev_salt: bool) -> bytes:
    """Read the salt from `salt_env`; fall back to DEV_SALT only if allowed."""
    value = os.environ.get(salt_env, "")
    if value:
        if len(value) < 16:
            raise MissingSaltError(f"{salt_env} is set but shorter than 16 characters")
        return value.encode()
    if not allow_dev_salt:
        raise MissingSaltError(
            f"environment variable {salt_env} is not set: a PII salt is required outside "
            "the local env (export a secret of at least 16 characters)"
        )
    log.warning(
        "!!! %s is not set: pseudonymising with the PUBLIC development salt. Fine for a "
        "laptop demo, never for real customer data. !!!",
        salt_env,
    )
    return DEV_SALT.encode()


def _pads(spark: SparkSession, salt: bytes) -> DataFrame:
    """One row: the HMAC inner and outer keys (RFC 2104: K^ipad, K^opad), from an RDD.

    Never as literals: Spark prints a literal's bytes in every plan, Spark UI page and event
    log, and one XOR turns them back into the salt. An RDD's rows appear in none of them.
    """
    key = hashlib.sha256(salt).digest() if len(salt) > _BLOCK else salt
    key = key.ljust(_BLOCK, b"\0")
    ipad = bytearray(b ^ 0x36 for b in key)
    opad = bytearray(b ^ 0x5C for b in key)
    rows = spark.sparkContext.parallelize([(ipad, opad)], 1)
    return spark.createDataFrame(rows, f"{_IPAD} binary, {_OPAD} binary")


def _hmac(value: Column) -> Column:
    """HMAC-SHA256 of `value` as 64 lowercase hex chars, keyed by the _pads columns."""
    message = F.encode(value, "UTF-8")
    inner = F.unhex(F.sha2(F.concat(F.col(_IPAD), message), 256))
    return F.sha2(F.concat(F.col(_OPAD), inner), 256)


def pseudonymise(df: DataFrame, columns: Mapping[str, Column | str], *, salt: bytes) -> DataFrame:
    """`df` with each `columns` key set to HMAC-SHA256(salt, value) as 64 lowercase hex
    chars; null stays null.

    Spark's native sha2 (H((K^opad) || H((K^ipad) || m))), so it runs in the JVM at full
    speed instead of a Python UDF; the keys come from a one-row broadcast frame (`_pads`),
    so no byte of the salt is in the query plan.

    Example::

        df.transform(pseudonymise, {"customer_key": "customer_id"}, salt=salt)
    """
    keyed = df.crossJoin(F.broadcast(_pads(df.sparkSession, salt)))
    values = {name: _hmac(F.col(v) if isinstance(v, str) else v) for name, v in columns.items()}
    return keyed.withColumns(values).drop(_IPAD, _OPAD)
