from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import yaml

from insight.config import ConfigError, load_config

CONF = Path(__file__).resolve().parents[1] / "conf"


def test_env_overrides_base_and_cli_overrides_env(tmp_path):
    cfg = load_config("local", lake=str(tmp_path), overrides=["spark.shuffle_partitions=7"])
    assert cfg.spark.master == "local[2]"  # from local.yaml
    assert cfg.spark.shuffle_partitions == 7  # from --conf, over local.yaml's 4
    assert cfg.spark.app_name == "customer-insight"  # from base.yaml
    assert cfg.lake == str(tmp_path.resolve())


def test_cluster_env_takes_master_from_spark_submit(tmp_path):
    cfg = load_config("cluster", lake=str(tmp_path))
    assert cfg.spark.master is None
    assert cfg.spark.local_catalog is False
    assert cfg.pii.allow_dev_salt is False


def test_databricks_env_brings_no_jars_and_keeps_uri_lakes():
    cfg = load_config("databricks")
    assert cfg.spark.packages == ()
    assert cfg.lake == "dbfs:/insight/lake"


def test_config_is_frozen(tmp_path):
    cfg = load_config("local", lake=str(tmp_path))
    with pytest.raises(FrozenInstanceError):
        cfg.lake = "elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("spark.shuffle_partition=3", "spark.shuffle_partition"),
        ("clean.max_quantity=lots", "clean.max_quantity"),
        ("spark.ui_enabled=maybe", "spark.ui_enabled"),
        ("clean.fx_to_base.USD=cheap", "clean.fx_to_base.USD"),
        ("clean.max_quantity=0", "clean.max_quantity"),
        ("quality.result_format=EVERYTHING", "quality.result_format"),
        ("clean.base_currency=JPY", "clean.base_currency"),
        ("recommend.event_weights={like: 2.0}", "'like'"),
        ("recommend.event_weights={view: 0, add_to_cart: 0, purchase: -1}", "at least one weight"),
        ("recommend.grid.rank=[]", "recommend.grid.rank"),
        ("recommend.grid.rank=[0]", "recommend.grid.rank[0]"),
        ("recommend.top_n=0", "recommend.top_n"),
        ("segment.k_min=9", "k_min <= k_max"),
        ("segment.k_max=1", "k_min <= k_max"),
        ("segment.pca_components=-1", "segment.pca_components"),
        ("clv.holdout_days=0", "clv.holdout_days"),
        ("clv.monthly_discount=-0.1", "clv.monthly_discount"),
        ("nlp.score_reg_param=-1", "nlp.score_reg_param"),
        ("nlp.reg_params=[]", "nlp.reg_params"),
        ("nonsense", "key=value"),
    ],
)
def test_bad_keys_and_values_are_errors_that_name_them(tmp_path, override, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.").replace("[", r"\[")):
        load_config("local", lake=str(tmp_path), overrides=[override])


def test_unknown_env_names_the_env_and_the_choices():
    with pytest.raises(ConfigError, match=r"unknown env 'staging'.*cluster, databricks, local"):
        load_config("staging")


def test_unknown_key_in_an_env_file_is_named(tmp_path):
    for name in ("base", "local"):
        (tmp_path / f"{name}.yaml").write_text(
            (CONF / f"{name}.yaml").read_text() if name == "base" else "spark:\n  mastr: x\n"
        )
    with pytest.raises(ConfigError, match=r"spark\.mastr"):
        load_config("local", lake="/tmp/x", directory=tmp_path)


def test_no_secret_in_config_files():
    """Secrets come from the environment: config files only name the variable."""
    # `encoder_max_tokens` counts word pieces (tokens of text), not credentials.
    allowed = {"salt_env", "allow_dev_salt", "encoder_max_tokens"}

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)

    for path in CONF.glob("*.yaml"):
        found = [
            k
            for k in keys(yaml.safe_load(path.read_text()))
            if k not in allowed and any(w in k for w in ("salt", "secret", "password", "token"))
        ]
        assert found == [], f"{path.name} holds secret-looking keys {found}"
