"""Pseudonymisation: salted HMAC-SHA256 computed inside Spark, and the salt's loading.

The salt is a secret: it comes from an environment variable, is never logged and never
written to a table. Only `local` may fall back to a development salt (loudly logged).
"""

from __future__ import annotations

import hashlib
import logging
import os

from pyspark.sql import Column
from pyspark.sql import functions as F

from insight.errors import InsightError

log = logging.getLogger(__name__)

# A fixed development salt so local runs are reproducible; never used outside `local`.
DEV_SALT = "insight-development-salt-not-for-production"
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


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


def hmac_sha256(col: Column | str, salt: bytes) -> Column:
    """HMAC-SHA256(salt, value) as 64 lowercase hex chars; null stays null.

    Built from Spark's native sha2 (RFC 2104: H((K^opad) || H((K^ipad) || m))) so it runs
    in the JVM at full speed instead of a Python UDF.

    Example::

        df.withColumn("customer_key", hmac_sha256("customer_id", salt))
    """
    key = hashlib.sha256(salt).digest() if len(salt) > _BLOCK else salt
    key = key.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    message = F.encode(col if isinstance(col, Column) else F.col(col), "UTF-8")
    inner = F.unhex(F.sha2(F.concat(F.lit(ipad), message), 256))
    return F.sha2(F.concat(F.lit(opad), inner), 256)
