"""The GPU side of scripts/train_stance_distill.py, on a CPU and synthetic data: it runs from its carried folder
alone, and a student comes back whole (word-embedding rows no step touched are rebuilt from the decay factor)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV = ["pmc-dev", "biomed-dev", "elife-dev", "multicite-dev"]


def _script():  # noqa: ANN202 - a module object
    spec = importlib.util.spec_from_file_location("train_stance_distill", ROOT / "scripts" / "train_stance_distill.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _carry(tmp: Path, rng: np.random.Generator) -> Path:
    """A carried folder as ``prep`` writes it: random base weights of the real shapes, a few short statements."""
    d = tmp / "carry"
    d.mkdir()
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense",
             "ff2": "output.dense", "ln2": "output.LayerNorm"}
    shapes = {"q": (384, 384), "k": (384, 384), "v": (384, 384), "o": (384, 384), "ln1": (384,),
              "ff1": (1536, 384), "ff2": (384, 1536), "ln2": (384,)}
    base = {"embeddings.word_embeddings.weight": (30522, 384), "embeddings.position_embeddings.weight": (512, 384),
            "embeddings.token_type_embeddings.weight": (2, 384), "embeddings.LayerNorm.weight": (384,),
            "embeddings.LayerNorm.bias": (384,)}
    for i in range(6):
        for ours, theirs in names.items():
            base[f"encoder.layer.{i}.{theirs}.weight"] = shapes[ours]
            base[f"encoder.layer.{i}.{theirs}.bias"] = shapes[ours][:1]
    np.savez(d / "base.npz", **{k: (rng.standard_normal(s) * 0.02).astype(np.float16) for k, s in base.items()})

    def statements(n: int) -> list[np.ndarray]:
        return [np.array([101, *rng.integers(1000, 2000, rng.integers(3, 12)), 103, 102], dtype=np.int64)
                for _ in range(n)]

    arrays: dict[str, np.ndarray] = {}
    sizes = {"train": 24, "transfer": 10, **dict.fromkeys(DEV, 6)}
    for f in ("s", "t"):
        for name, n in sizes.items():
            rows = statements(n)
            arrays[f"{name}_{f}_ids"] = np.concatenate(rows).astype(np.uint16)
            arrays[f"{name}_{f}_len"] = np.array([len(r) for r in rows], dtype=np.uint16)
    arrays["train_y"] = np.array([0, 1, 2, 2] * 6, dtype=np.int8)
    arrays["train_w"] = np.ones(24, dtype=np.float32)
    for k in DEV:
        arrays[f"{k}_y"] = np.array([0, 1, 2, 2, 2, 0], dtype=np.int8)
    np.savez_compressed(d / "data.npz", **arrays)
    return d


def test_train_runs_from_the_carried_folder_and_students_come_back_whole(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    mod = _script()
    carry = _carry(tmp_path, np.random.default_rng(0))
    out = tmp_path / "out"
    assert mod.main(["train", str(carry), str(out), "--smoke", "24"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert {"base-s13", "teacher-s1", "teacher-ens", "kd-s13"} <= set(results)
    assert results["kd-s13"]["distilled"] and results["kd-s13"]["transfer_rows"] == 10
    assert 0 < results["kd-s13"]["wd_decay_factor"] < 1
    soft = np.load(out / "soft.npz")["soft"]
    assert soft.shape == (24 + 10, 3) and np.allclose(soft.astype(np.float32).sum(1), 1, atol=1e-2)
    logits = np.load(out / "devlogits.npz")
    assert logits["kd-s13|pmc-dev"].shape == (6, 3)

    # The student's word table: the rows its data touched travel; every other row is the base row times the
    # decay factor (AdamW's decoupled decay is all that moves a row whose Adam moments stay 0).
    emb, rest = np.load(out / "kd-s13-emb.npz"), np.load(out / "kd-s13-rest.npz")
    base = np.load(carry / "base.npz")["embeddings.word_embeddings.weight"].astype(np.float32)
    assert set(emb["ids"]) >= {101, 102, 103} and len(emb["ids"]) < 2000
    word = base * np.float32(results["kd-s13"]["wd_decay_factor"])
    word[emb["ids"]] = emb["rows"].astype(np.float32)
    model = mod.stance_bert(4)
    sd = {k: torch.from_numpy(rest[k].astype(np.float32)) for k in rest.files}
    sd["word.weight"] = torch.from_numpy(word)
    model.load_state_dict(sd)  # strict: every weight of the student is accounted for
    model.eval()
    ids = torch.tensor([[101, 1500, 103, 102]])
    out_logits = model(ids, torch.ones_like(ids), torch.zeros_like(ids))
    assert out_logits.shape == (1, 3) and torch.isfinite(out_logits).all()

    # Smaller students from the first run's soft labels.
    (carry / "soft.npz").write_bytes((out / "soft.npz").read_bytes())
    out2 = tmp_path / "out2"
    assert mod.main(["train", str(carry), str(out2), "--smoke", "24", "--students-only", "3"]) == 0
    assert json.loads((out2 / "results.json").read_text())["kd-l3-s13"]["layers"] == 3
    assert (out2 / "kd-l3-s13-rest.npz").exists()
