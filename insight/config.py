"""One config loader: conf/base.yaml, then conf/<env>.yaml, then `--conf key=value`.

The merged mapping is validated into frozen dataclasses (insight.typed): an unknown key or a
value of the wrong type is an error that names it. Secrets are not config: the PII salt is
read from the environment variable named by `pii.salt_env` (see `insight.pii.load_salt`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from insight import storage
from insight.errors import ConfigError
from insight.landing import PRODUCT_EVENT_TYPES
from insight.shipped import shipped_dir
from insight.typed import build, deep_merge, nest, parse_override, read_yaml

ENVS = ("local", "cluster", "databricks")
LOG_FORMATS = ("text", "json")
# Sentiment model candidates the nlp job knows how to train (insight.nlp.sentiment).
SENTIMENT_CANDIDATES = (
    "minilm_logreg",
    "minilm_lexicon_logreg",
    "minilm_words_logreg",
    "vivekn",
    "word2vec_classifierdl",
)
# The MiniLM encoder's numeric precision: int8 (dynamically quantised) or float32.
ENCODER_PRECISIONS = ("int8", "float32")


@dataclass(frozen=True)
class SparkConfig:
    app_name: str
    master: str | None
    shuffle_partitions: int
    driver_memory: str | None
    ui_enabled: bool
    packages: tuple[str, ...]
    excludes: tuple[str, ...]
    jar_files: tuple[str, ...]
    jar_repository: str
    local_catalog: bool
    log_level: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PiiConfig:
    salt_env: str
    allow_dev_salt: bool


@dataclass(frozen=True)
class IngestConfig:
    max_files_per_trigger: int


@dataclass(frozen=True)
class CleanConfig:
    base_currency: str
    fx_to_base: dict[str, float]
    max_history_days: int
    max_price: float
    max_quantity: int
    max_text_length: int
    min_birth_year: int
    min_age_years: int
    events_partition_column: str


@dataclass(frozen=True)
class LogConfig:
    format: str
    level: str
    progress_seconds: float


@dataclass(frozen=True)
class QualityConfig:
    result_format: str


@dataclass(frozen=True)
class MlflowConfig:
    tracking_uri: str | None
    experiment_prefix: str


@dataclass(frozen=True)
class SegmentConfig:
    k_min: int
    k_max: int
    seed: int
    pca_components: int

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.k_max:
            raise ConfigError(
                f"segment: need 2 <= k_min <= k_max, got k_min {self.k_min}, k_max {self.k_max}"
            )
        if self.pca_components < 0:
            raise ConfigError(f"segment.pca_components must be >= 0, got {self.pca_components}")


@dataclass(frozen=True)
class ClvConfig:
    holdout_days: int
    horizon_days: int
    monthly_discount: float
    penalizer: float

    def __post_init__(self) -> None:
        # Checked here, not in Config: the clv job's flags replace these values.
        for key in ("holdout_days", "horizon_days"):
            if getattr(self, key) < 1:
                raise ConfigError(f"clv.{key} must be >= 1, got {getattr(self, key)}")
        for key in ("monthly_discount", "penalizer"):
            if getattr(self, key) < 0:
                raise ConfigError(f"clv.{key} must be >= 0, got {getattr(self, key)}")


@dataclass(frozen=True)
class AlertConfig:
    recent_days: int
    baseline_days: int
    min_recent_reviews: int
    min_increase: float
    min_ratio: float


@dataclass(frozen=True)
class NlpConfig:
    model_name: str
    candidates: tuple[str, ...]
    minilm_dir: str
    holdout_share: float
    seed: int
    word2vec_dim: int
    max_epochs: int
    learning_rate: float
    batch_size: int
    max_text_chars: int
    min_letters: int
    min_latin_share: float
    keyphrases_per_review: int
    top_keyphrases: int
    topics: int
    lda_max_iter: int
    lda_partitions: int
    vocab_size: int
    min_doc_freq: int
    alerts: AlertConfig
    encoder_precision: str
    encoder_max_tokens: int
    encoder_batch_size: int
    reg_params: tuple[float, ...]
    score_reg_param: float
    max_training_reviews: int
    zh_model_name: str
    zh_reg_params: tuple[float, ...]
    zh_hash_features: int
    zh_min_doc_freq: int


@dataclass(frozen=True)
class AlsGrid:
    rank: tuple[int, ...]
    reg_param: tuple[float, ...]
    alpha: tuple[float, ...]


@dataclass(frozen=True)
class RecommendConfig:
    model_name: str
    top_n: int
    similar_n: int
    event_weights: dict[str, float]
    half_life_days: int
    history_days: int
    validation_days: int
    eval_k: int
    repurchasable_categories: tuple[str, ...]
    blocked_products: tuple[str, ...]
    grid: AlsGrid
    max_iter: int
    seed: int
    block_size: int
    reason_history: int
    min_training_interactions: int


@dataclass(frozen=True)
class PropensityConfig:
    model_prefix: str
    purchase_window_days: int
    churn_window_days: int
    snapshots: int
    snapshot_step_days: int
    num_proc: int
    gpu: bool
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    early_stopping_share: float
    hidden_units: tuple[int, ...]
    dropout: float
    embedding_dim: int
    gbt_max_iter: int
    min_positives: int
    high_band_percentile: float
    medium_band_percentile: float
    latent_dim: int
    seed: int


@dataclass(frozen=True)
class Config:
    env: str
    lake: str
    spark: SparkConfig
    pii: PiiConfig
    ingest: IngestConfig
    clean: CleanConfig
    quality: QualityConfig
    log: LogConfig
    mlflow: MlflowConfig
    nlp: NlpConfig
    segment: SegmentConfig
    clv: ClvConfig
    recommend: RecommendConfig
    propensity: PropensityConfig

    def __post_init__(self) -> None:
        if self.log.format not in LOG_FORMATS:
            raise ConfigError(
                f"log.format {self.log.format!r}: use one of {', '.join(LOG_FORMATS)}"
            )
        if self.clean.base_currency not in self.clean.fx_to_base:
            raise ConfigError(
                f"clean.base_currency {self.clean.base_currency!r} has no rate in clean.fx_to_base"
            )
        for key, value in {
            "spark.shuffle_partitions": self.spark.shuffle_partitions,
            "ingest.max_files_per_trigger": self.ingest.max_files_per_trigger,
            "clean.max_history_days": self.clean.max_history_days,
            "clean.max_quantity": self.clean.max_quantity,
            "clean.max_text_length": self.clean.max_text_length,
            "nlp.max_epochs": self.nlp.max_epochs,
            "nlp.batch_size": self.nlp.batch_size,
            "nlp.max_text_chars": self.nlp.max_text_chars,
            "nlp.keyphrases_per_review": self.nlp.keyphrases_per_review,
            "nlp.top_keyphrases": self.nlp.top_keyphrases,
            "nlp.topics": self.nlp.topics,
            "nlp.lda_max_iter": self.nlp.lda_max_iter,
            "nlp.lda_partitions": self.nlp.lda_partitions,
            "nlp.vocab_size": self.nlp.vocab_size,
            "nlp.min_doc_freq": self.nlp.min_doc_freq,
            "nlp.encoder_max_tokens": self.nlp.encoder_max_tokens,
            "nlp.encoder_batch_size": self.nlp.encoder_batch_size,
            "nlp.max_training_reviews": self.nlp.max_training_reviews,
            "nlp.alerts.recent_days": self.nlp.alerts.recent_days,
            "nlp.alerts.baseline_days": self.nlp.alerts.baseline_days,
            "recommend.top_n": self.recommend.top_n,
            "recommend.similar_n": self.recommend.similar_n,
            "recommend.half_life_days": self.recommend.half_life_days,
            "recommend.history_days": self.recommend.history_days,
            "recommend.validation_days": self.recommend.validation_days,
            "recommend.eval_k": self.recommend.eval_k,
            "recommend.max_iter": self.recommend.max_iter,
            "recommend.block_size": self.recommend.block_size,
            "recommend.reason_history": self.recommend.reason_history,
            "recommend.min_training_interactions": self.recommend.min_training_interactions,
            **{f"recommend.grid.rank[{i}]": r for i, r in enumerate(self.recommend.grid.rank)},
            "propensity.purchase_window_days": self.propensity.purchase_window_days,
            "propensity.churn_window_days": self.propensity.churn_window_days,
            "propensity.snapshots": self.propensity.snapshots,
            "propensity.snapshot_step_days": self.propensity.snapshot_step_days,
            "propensity.num_proc": self.propensity.num_proc,
            "propensity.epochs": self.propensity.epochs,
            "propensity.batch_size": self.propensity.batch_size,
            "propensity.embedding_dim": self.propensity.embedding_dim,
            "propensity.latent_dim": self.propensity.latent_dim,
            "propensity.min_positives": self.propensity.min_positives,
        }.items():
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        if not 0 < self.nlp.holdout_share < 1:
            raise ConfigError(
                f"nlp.holdout_share must be between 0 and 1, got {self.nlp.holdout_share}"
            )
        unknown = sorted(set(self.nlp.candidates) - set(SENTIMENT_CANDIDATES))
        if unknown or not self.nlp.candidates:
            raise ConfigError(
                f"nlp.candidates: unknown candidate {unknown[0] if unknown else '(none)'!r}; "
                f"choose from {', '.join(SENTIMENT_CANDIDATES)}"
            )
        if self.nlp.encoder_precision not in ENCODER_PRECISIONS:
            raise ConfigError(
                f"nlp.encoder_precision {self.nlp.encoder_precision!r}: use one of "
                f"{', '.join(ENCODER_PRECISIONS)}"
            )
        if not self.nlp.reg_params or any(v < 0 for v in self.nlp.reg_params):
            raise ConfigError("nlp.reg_params: give at least one value, each >= 0")
        if not self.nlp.zh_reg_params or any(v < 0 for v in self.nlp.zh_reg_params):
            raise ConfigError("nlp.zh_reg_params: give at least one value, each >= 0")
        if self.nlp.zh_hash_features < 1024:
            raise ConfigError(f"nlp.zh_hash_features {self.nlp.zh_hash_features}: use >= 1024")
        if self.nlp.score_reg_param < 0:
            raise ConfigError(f"nlp.score_reg_param {self.nlp.score_reg_param}: use a value >= 0")
        self._check_recommend()
        p = self.propensity
        if not 0 <= p.medium_band_percentile < p.high_band_percentile <= 100:
            raise ConfigError(
                "propensity: need 0 <= medium_band_percentile < high_band_percentile <= 100, "
                f"got {p.medium_band_percentile} and {p.high_band_percentile}"
            )
        if not 0 <= p.dropout < 1:
            raise ConfigError(f"propensity.dropout must be in [0, 1), got {p.dropout}")
        if self.quality.result_format not in ("BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"):
            raise ConfigError(
                f"quality.result_format: unknown format {self.quality.result_format!r}"
            )

    def _check_recommend(self) -> None:
        r = self.recommend
        unknown = sorted(set(r.event_weights) - set(PRODUCT_EVENT_TYPES))
        if unknown:
            raise ConfigError(
                f"recommend.event_weights: unknown event type {unknown[0]!r}; "
                f"choose from {', '.join(PRODUCT_EVENT_TYPES)}"
            )
        if not any(w > 0 for w in r.event_weights.values()):
            raise ConfigError("recommend.event_weights: at least one weight must be positive")
        grid = r.grid
        for key, values in (("rank", grid.rank), ("reg_param", grid.reg_param),
                            ("alpha", grid.alpha)):  # fmt: skip
            if not values:
                raise ConfigError(f"recommend.grid.{key}: give at least one value")
        if any(v < 0 for v in grid.reg_param) or any(v <= 0 for v in grid.alpha):
            raise ConfigError("recommend.grid: reg_param must be >= 0 and alpha > 0")


def conf_dir() -> Path:
    """The folder holding base.yaml and the env overrides (shipped inside the package)."""
    return shipped_dir("conf")


def load_config(
    env: str = "local",
    *,
    lake: str | None = None,
    overrides: Iterable[str] = (),
    directory: Path | None = None,
) -> Config:
    """Merge base -> env -> overrides (`a.b=value`, value parsed as YAML) and validate.

    Example::

        cfg = load_config("local", lake="/data/lake", overrides=["spark.shuffle_partitions=8"])
    """
    if env not in ENVS:
        raise ConfigError(f"unknown env {env!r}; choose one of: {', '.join(sorted(ENVS))}")
    directory = directory or conf_dir()
    merged = read_yaml(directory / "base.yaml")
    deep_merge(merged, read_yaml(directory / f"{env}.yaml"), origin=f"{env}.yaml")
    for item in overrides:
        key, value = parse_override(item)
        deep_merge(merged, nest(key, value), origin=f"--conf {item}")
    if lake is not None:
        merged["lake"] = lake
    merged["env"] = env
    merged["lake"] = _normalise_lake(str(merged.get("lake", "")))
    cfg = build(Config, merged, prefix="")
    if cfg.pii.allow_dev_salt and env != "local":
        # A development salt in production would make every customer key guessable.
        raise ConfigError(
            f"pii.allow_dev_salt: only the local env may use the development salt, not {env!r}; "
            f"set {cfg.pii.salt_env} instead"
        )
    return cfg


def _normalise_lake(lake: str) -> str:
    if not lake:
        raise ConfigError("lake: a lake folder or URI is required (--lake DIR)")
    if not storage.is_local(lake):
        return lake.rstrip("/")
    return str(Path(lake).expanduser().resolve())
