"""The stance network of scripts/train_stance_minilm.py and scripts/train_stance_distill.py (torch and numpy only,
so that it travels to a GPU machine with the distillation script and nothing else).

BERT is re-implemented here in ~60 lines of torch (no transformers); the runtime (citelens.stance.onnx_model)
reads its int8 ONNX export with onnxruntime alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MASK_ID = 103  # the target callout's marker ([MASK]), as citelens.stance.onnx_model.MASK_ID


def batches(seqs: list[np.ndarray], order: np.ndarray, size: int) -> list[np.ndarray]:
    """Batches of ``order`` in which rows of similar length sit together (chunks of 50 batches sorted)."""
    out = []
    chunk = size * 50
    for i in range(0, len(order), chunk):
        part = order[i : i + chunk]
        part = part[np.argsort([len(seqs[j]) for j in part], kind="stable")]
        out.extend(part[k : k + size] for k in range(0, len(part), size))
    return out


def stance_bert(n_layers: int, dropout: float = 0.1) -> Any:
    """The stance network: BERT re-implemented in torch (no transformers), the mean of the tokens and the target
    marker's hidden state into a 3-class head; no weights (:func:`base_state` has the pre-trained ones)."""
    import torch
    from torch import nn

    d, heads, ff = 384, 12, 1536

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
            self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)
            self.drop = nn.Dropout(dropout)

        def forward(self, x: Any, bias: Any) -> Any:
            b, t, _ = x.shape

            def split(z: Any) -> Any:
                return z.view(b, t, heads, d // heads).transpose(1, 2)

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // heads) + bias, dim=-1)
            h = (self.drop(att) @ v).transpose(1, 2).reshape(b, t, d)
            x = self.ln1(x + self.drop(self.o(h)))
            return self.ln2(x + self.drop(self.ff2(nn.functional.gelu(self.ff1(x)))))

    class StanceBert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word, self.pos, self.tok_type = nn.Embedding(30522, d), nn.Embedding(512, d), nn.Embedding(2, d)
            self.ln = nn.LayerNorm(d, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(n_layers))
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(2 * d, 3)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            t = input_ids.shape[1]
            pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
            x = self.drop(self.ln(self.word(input_ids) + self.pos(pos) + self.tok_type(token_type_ids)))
            m = attention_mask.to(x.dtype)
            bias = (1.0 - m)[:, None, None, :] * -1e4
            for layer in self.layers:
                x = layer(x, bias)
            mean = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
            at = (input_ids == MASK_ID).to(torch.int64).argmax(dim=1)
            return self.head(self.drop(torch.cat([mean, x[torch.arange(x.shape[0]), at]], dim=-1)))

    return StanceBert()


def base_state(n_layers: int, w: dict[str, np.ndarray]) -> dict[str, Any]:
    """The pre-trained weights (sentence-transformers names) under :func:`stance_bert`'s names."""
    import torch

    sd = {"word.weight": w["embeddings.word_embeddings.weight"],
          "pos.weight": w["embeddings.position_embeddings.weight"],
          "tok_type.weight": w["embeddings.token_type_embeddings.weight"],
          "ln.weight": w["embeddings.LayerNorm.weight"], "ln.bias": w["embeddings.LayerNorm.bias"]}
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense",
             "ff2": "output.dense", "ln2": "output.LayerNorm"}
    for i in range(n_layers):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                sd[f"layers.{i}.{ours}.{p}"] = w[f"encoder.layer.{i}.{theirs}.{p}"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
