"""MiniLM sentence vectors, computed in Spark's Python workers.

Each review goes through the exported all-MiniLM-L6-v2 graph (insight.nlp.transformer) on
onnxruntime: Hugging Face `tokenizers` WordPiece (the model's own uncased vocabulary), then
the last hidden state averaged over every word piece the attention sees, [CLS] and [SEP]
included, as sentence-transformers does. The texts arrive in Arrow batches of a pandas UDF.

Why not Spark NLP's BertEmbeddings (used before): on the 3,069 Alexa reviews on local[2] it
embedded 127 reviews/s, most of it spent making and averaging one annotation per word, and
its average of each word's first piece differs from the model's. Spark NLP's E5Embeddings
pools inside the graph (473/s) but its vectors depart from the model's on short reviews
(cosine 0.38 for "It’s great"). This path: the model's own vectors, and see bench/sentiment.py
for its speed. Spark NLP still runs the text candidates, keyphrases and topics.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

# At module level: pandas_udf reads the type hints below in this module's namespace.
import pandas as pd

if TYPE_CHECKING:
    import numpy as np
    from pyspark.sql import Column

# Part of every stored vector's encoder version: how the vector was made from the graph.
POOLING = "ort-mean"
# Threads per ONNX session: one Spark task runs one session on its one core (spark.task.cpus);
# more threads per session oversubscribe the cores when tasks run side by side.
THREADS = 1


class Encoder:
    """Texts -> mean-pooled MiniLM vectors (float32, [texts, 384]), `batch_size` texts per
    ONNX call, each call padded to its longest text."""

    def __init__(self, path: str, max_tokens: int, batch_size: int) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        self.tokenizer = BertWordPieceTokenizer(f"{path}/assets/vocab.txt", lowercase=True)
        self.tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            f"{path}/model.onnx", options, providers=["CPUExecutionProvider"]
        )
        self.batch_size = batch_size

    def __call__(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        from insight.nlp.transformer import DIMENSION

        pieces = [e.ids for e in self.tokenizer.encode_batch(texts)]
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # Similar lengths share a call, so little of it is padding.
        order = np.argsort([len(p) for p in pieces], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(pieces[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(pieces[i])] = pieces[i]
            mask = (ids != 0).astype(np.int64)  # [PAD] is id 0 in BERT vocabularies
            hidden = self.session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            out[rows] = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return out


_CACHE: dict[tuple[str, int, int], Encoder] = {}
_LOCK = threading.Lock()


def encoder(path: str, max_tokens: int, batch_size: int) -> Encoder:
    """One Encoder per Python worker and setting: loading the graph takes about a second."""
    key = (path, max_tokens, batch_size)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = Encoder(path, max_tokens, batch_size)
        return _CACHE[key]


def vectors(
    text: Column, path: str, max_tokens: int, batch_size: int, *, shipped: bool = False
) -> Column:
    """array<float> MiniLM vector of each `text`, from the export folder `path` (a variant
    folder of insight.nlp.transformer.encoder_dir). `shipped`: `path` was sent to the workers
    with SparkContext.addFile (a remote folder), each reads its own copy."""
    from pyspark.sql import functions as F

    @F.pandas_udf("array<float>")
    def _embed(texts: pd.Series) -> pd.Series:
        from pyspark import SparkFiles

        local = SparkFiles.get(path.rstrip("/").rsplit("/", 1)[-1]) if shipped else path
        found = encoder(local, max_tokens, batch_size)(texts.fillna("").tolist())
        return pd.Series(list(found))

    return _embed(text)
