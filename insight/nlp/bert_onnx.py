"""The BERT encoder as an ONNX graph, built node by node from Hugging Face weights and
config.json with `onnx` alone (no torch, no TensorFlow, no tf2onnx): what
insight.nlp.transformer exports for all-MiniLM-L6-v2. `onnx` is an export-only dependency.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from onnx import ModelProto

# onnxruntime 1.19 (our Java runtime) reads IR <= 10 and opset <= 21; opset 17 is the first
# with LayerNormalization, and IR 8 keeps older runtimes able to read the file too.
OPSET = 17
IR_VERSION = 8
# Added to the attention scores of padding: exp(-1e4) underflows to 0 in float32, and unlike
# -inf it cannot turn a row into NaN.
MASK_BIAS = -10000.0


def build(weights: dict[str, np.ndarray], config: dict[str, Any]) -> ModelProto:
    """A BERT encoder as an ONNX model, from Hugging Face weight names and config.json."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if config.get("hidden_act") != "gelu" or config.get("position_embedding_type") != "absolute":
        raise ValueError("only BERT with exact GELU and absolute positions is supported")
    hidden = int(config["hidden_size"])
    n_heads = int(config["num_attention_heads"])
    head_dim = hidden // n_heads
    eps = float(config["layer_norm_eps"])
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: Any, dtype: Any = None) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    def op(op_type: str, *inputs: str, **attrs: Any) -> str:
        out = f"{op_type}_{len(nodes)}"
        nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        # Hugging Face stores Linear weights as [out, in]; MatMul wants [in, out].
        w = const(f"{prefix}.weight", weights[f"{prefix}.weight"].T, np.float32)
        return op("Add", op("MatMul", x, w), const(f"{prefix}.bias", weights[f"{prefix}.bias"]))

    def layer_norm(x: str, prefix: str) -> str:
        scale = const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)

    # Embeddings: word + position (first seq_len rows) + token type, then LayerNorm.
    word = op(
        "Gather",
        const("word_embeddings", weights["embeddings.word_embeddings.weight"]),
        "input_ids",
    )
    seq_len = op("Shape", "input_ids", start=1, end=2)
    positions = op(
        "Slice",
        const("position_embeddings", weights["embeddings.position_embeddings.weight"]),
        const("zero", [0], np.int64),
        seq_len,
        const("axis0", [0], np.int64),
    )
    types = op(
        "Gather",
        const("token_type_embeddings", weights["embeddings.token_type_embeddings.weight"]),
        "token_type_ids",
    )
    x = layer_norm(op("Add", op("Add", word, positions), types), "embeddings.LayerNorm")

    # Padding gets a large negative score bias: [batch, seq] -> [batch, 1, 1, seq].
    keep = op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = op(
        "Mul",
        op("Sub", const("one", 1.0, np.float32), keep),
        const("mask_bias", MASK_BIAS, np.float32),
    )
    bias = op("Unsqueeze", bias, const("axes12", [1, 2], np.int64))

    split_shape = const("split_heads", [0, 0, n_heads, head_dim], np.int64)
    merge_shape = const("merge_heads", [0, 0, hidden], np.int64)
    scale = const("scale", 1.0 / math.sqrt(head_dim), np.float32)
    half = const("half", 0.5, np.float32)
    sqrt2 = const("sqrt2", math.sqrt(2.0), np.float32)
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        def heads(name: str, perm: list[int], x: str = x, p: str = p) -> str:
            return op(
                "Transpose",
                op("Reshape", linear(x, f"{p}.attention.self.{name}"), split_shape),
                perm=perm,
            )

        q = heads("query", [0, 2, 1, 3])  # [batch, heads, seq, head_dim]
        k = heads("key", [0, 2, 3, 1])  # [batch, heads, head_dim, seq]
        v = heads("value", [0, 2, 1, 3])
        scores = op("Add", op("Mul", op("MatMul", q, k), scale), bias)
        context = op("MatMul", op("Softmax", scores, axis=-1), v)
        context = op("Reshape", op("Transpose", context, perm=[0, 2, 1, 3]), merge_shape)
        attended = linear(context, f"{p}.attention.output.dense")
        x = layer_norm(op("Add", attended, x), f"{p}.attention.output.LayerNorm")
        # Exact (erf) GELU as BERT uses; opset 17 has no Gelu op, onnxruntime fuses this.
        h = linear(x, f"{p}.intermediate.dense")
        h = op(
            "Mul",
            op("Mul", h, half),
            op("Add", op("Erf", op("Div", h, sqrt2)), const(f"one_{i}", 1.0, np.float32)),
        )
        x = layer_norm(op("Add", linear(h, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    ids = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    out = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden]
    )
    graph = helper.make_graph(nodes, "minilm", ids, [out], initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="insight.nlp.transformer",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model
