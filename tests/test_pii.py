import hashlib
import hmac

import pytest

from insight.pii import DEV_SALT, MissingSaltError, hmac_sha256, load_salt


@pytest.mark.parametrize("salt", [b"short-salt-16chr", b"x" * 100])  # short and > block size
def test_spark_hmac_matches_python_hmac(spark, salt):
    values = ["C0000001", "anna.müller@example.com", "", None]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    got = [r[0] for r in df.select(hmac_sha256("v", salt)).collect()]
    want = [
        None if v is None else hmac.new(salt, v.encode(), hashlib.sha256).hexdigest()
        for v in values
    ]
    assert got == want


def test_salt_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_SALT", "a-very-secret-salt-value")
    assert load_salt("MY_SALT", allow_dev_salt=False) == b"a-very-secret-salt-value"


def test_missing_salt_is_a_startup_error_outside_local(monkeypatch):
    monkeypatch.delenv("MY_SALT", raising=False)
    with pytest.raises(MissingSaltError, match="MY_SALT"):
        load_salt("MY_SALT", allow_dev_salt=False)


def test_local_falls_back_to_dev_salt_loudly_without_logging_it(monkeypatch, caplog):
    monkeypatch.delenv("MY_SALT", raising=False)
    assert load_salt("MY_SALT", allow_dev_salt=True) == DEV_SALT.encode()
    assert "development salt" in caplog.text
    assert DEV_SALT not in caplog.text


def test_too_short_salt_is_rejected(monkeypatch):
    monkeypatch.setenv("MY_SALT", "short")
    with pytest.raises(MissingSaltError, match="shorter than 16"):
        load_salt("MY_SALT", allow_dev_salt=True)
