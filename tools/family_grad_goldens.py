#!/usr/bin/env python3
"""Gradient goldens for pgverify's differentiable record-family model (phased TTT), computed by each
record's OWN `GPT.forward_ttt`, `BatchedTTTLoRA` and varlen `GPT.forward` under torch autograd.

Run by hand (never in CI):  /work/venv/bin/python tools/family_grad_goldens.py [--shared ../shared] [--only NAME]

For every 2026-04 folder of fixtures/families (written by tools/family_goldens.py) the record's
train_gpt.py is exec'd exactly as family_goldens.py does (its stubs, env and FAMILIES are imported from
there, not repeated), its `GPT` is built, the fixture's weights are loaded through the record's own
`_rebank_state_dict`, looping is switched on, and the model stays in eval mode (the Triton-only fused
MLP/CE paths are training-mode or flag-only) while autograd runs. Writes
fixtures/families/<folder>/gradients.json:
  * `ttt` cases: `forward_ttt` per-token losses on a 3 × 96 batch (rows start at document starts, the
    last row is a 60-token document prefix zero-padded like the records pad), with the record's own
    `BatchedTTTLoRA` whose A/B are set to deterministic values (formula below, shared with the Swift
    tests), and the gradients of Σ w·loss wrt every LoRA tensor;
  * `base`: `model(x[None], y[None], cu_seqlens=..., max_seqlen=...)` on 256 stream tokens with
    document starts inside, `cu_seqlens` from the record's own `_build_cu_seqlens` as
    `train_val_ttt_global_sgd_distributed` calls it, the mean loss and the gradients of every base
    parameter (banks un-banked by the record's `_unbank_state_dict`).
For the March folders (fg.MARCH_FAMILIES: BigramHash, value embeddings, SmearGate(dim); no `forward_ttt`,
no LoRA) the model is built by the record's own `eval_model = GPT(...)` call, as family_goldens.py builds
it, and only `base` is written: `model(x, y)` (the record's `GPT.forward`, mean cross-entropy, as its
own TTT calls it on rows of seq_len) on MARCH_ROWS × MARCH_COLUMNS consecutive stream rows from
`MARCH_OFFSET`, the mean loss and the gradients of every parameter (un-banked by `_unbank_state_dict`).
Each gradient is summarised (shape, sum, abs_sum, max_abs, values at 9 spread indices).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402  (the family tool: stubs, env, record exec, shard reader)

ROWS, COLUMNS, PADDED_LENGTH = 3, 96, 60
BASE_TOKENS = 256
CASES = [
    dict(name="all_targets_rank3", rank=3, k=True, mlp=True, o=True),
    dict(name="qv_head_rank2", rank=2, k=False, mlp=False, o=False),
]


def lora_value(kind: str, adapter: int, row: int, index: int, bound: float) -> float:
    """Deterministic LoRA entries (float64, then float32), also computed by the Swift tests:
    A[row, i] = bound·sin(0.731·i + 1.37·adapter + 2.11·row + 0.5) over the flat [rank, in] index,
    B[row, i] = bound·cos(0.593·i + 0.91·adapter + 1.73·row + 0.2) over the flat [out, rank] index."""
    if kind == "A":
        return bound * math.sin(0.731 * index + 1.37 * adapter + 2.11 * row + 0.5)
    return bound * math.cos(0.593 * index + 0.91 * adapter + 1.73 * row + 0.2)


def loss_weight(row: int, column: int, length: int) -> float:
    """Weights of the per-token losses: 0 past a row's length, else (1 + (7·row + 3·column) mod 5) / 10."""
    return 0.0 if column >= length else (1 + (7 * row + 3 * column) % 5) / 10


def summary(grad: torch.Tensor) -> dict:
    g = grad.detach().double().reshape(-1)
    n = g.numel()
    indices = sorted(set(int(round(i * (n - 1) / 8)) for i in range(9)))
    return dict(shape=list(grad.shape), sum=float(g.sum()), abs_sum=float(g.abs().sum()),
                max_abs=float(g.abs().max()), indices=indices, values=[float(g[i]) for i in indices])


def load_fixture_weights(folder: Path) -> dict:
    index = json.loads((folder / "model.weights.json").read_text())
    blob = np.fromfile(folder / index["blob"], dtype="<f4")
    flat = {}
    for entry in index["tensors"]:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        start = entry["offset"] // 4
        flat[entry["name"]] = torch.from_numpy(blob[start:start + count].copy()).reshape(entry["shape"])
    return flat


def lora_modules(lora) -> list:
    """The record's adapters in its reset order: the head, then every slot's q, v, k, mlp, o lists."""
    out = [("lm_head_lora", lora.lm_head_lora)]
    for name in ["q_loras", "v_loras", "k_loras", "mlp_loras", "o_loras"]:
        modules = getattr(lora, name)
        if modules is not None:
            out += [(f"{name}.{i}", m) for i, m in enumerate(modules)]
    return out


def run(family: dict, shared: Path) -> None:
    record_dir = shared / fg.RECORDS / family["record"]
    script = record_dir / "train_gpt.py"
    folder = fg.OUT / family["name"]
    stream = fg.read_shard(folder / "val_tokens.bin").astype(np.int64)
    env = dict(fg.TINY_ENV, **family["env"])
    with tempfile.TemporaryDirectory() as tmp:
        env.update(DATA_PATH=tmp, TOKENIZER_PATH=str(shared / "tokenizers" / family["tokenizer"]), DATA_DIR=tmp + "/")
        mod = fg.exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        model = mod.GPT(h).float()
    if getattr(mod, "BOS_ID", 1) is None:
        mod.BOS_ID = 1  # record #1 sets its global BOS id (1) in its loaders/main before any forward
    n, dim = h.num_layers, h.model_dim
    kv_dim = h.num_kv_heads * (dim // h.num_heads)
    hidden = int(h.mlp_mult * dim)
    flat = load_fixture_weights(folder)
    model.load_state_dict(mod._rebank_state_dict(flat, n, dim, kv_dim, hidden), strict=True)
    if h.num_loops > 0:
        model.looping_active = True
    if hasattr(model, "fused_ce_enabled"):
        model.fused_ce_enabled = False  # the Triton CE kernel; the eager path is the same function
    model.eval()  # eval mode: the eager MLP (the fused Triton MLP runs only in training mode)

    # --- forward_ttt batch: rows at document starts, the last a short zero-padded prefix -----------------
    bos = [int(p) for p in np.flatnonzero(stream[:-1] == 1)]
    long_docs = [p for p in bos if p + COLUMNS + 1 <= len(stream)]
    starts = [long_docs[0], long_docs[1], long_docs[2]]
    lengths = [COLUMNS, COLUMNS, PADDED_LENGTH]
    x = torch.zeros(ROWS, COLUMNS, dtype=torch.int64)
    y = torch.zeros(ROWS, COLUMNS, dtype=torch.int64)
    for r, (s, length) in enumerate(zip(starts, lengths)):
        x[r, :length] = torch.from_numpy(stream[s:s + length])
        y[r, :length] = torch.from_numpy(stream[s + 1:s + length + 1])
    weights = torch.tensor([[loss_weight(r, t, lengths[r]) for t in range(COLUMNS)] for r in range(ROWS)],
                           dtype=torch.float32)

    cases = []
    for case in CASES:
        torch.manual_seed(0)
        lora = mod.BatchedTTTLoRA(ROWS, model, case["rank"], k_lora=case["k"], mlp_lora=case["mlp"], o_lora=case["o"])
        lora_scale = float(getattr(lora.lm_head_lora, "_scale", 1.0))
        b_bound = 0.05 / lora_scale
        with torch.no_grad():
            for a, (_, m) in enumerate(lora_modules(lora)):
                bound = 1 / math.sqrt(m.A.shape[-1])
                for r in range(ROWS):
                    m.A[r] = torch.tensor([lora_value("A", a, r, i, bound) for i in range(m.A[r].numel())],
                                          dtype=torch.float64).reshape(m.A[r].shape).float()
                    m.B[r] = torch.tensor([lora_value("B", a, r, i, b_bound) for i in range(m.B[r].numel())],
                                          dtype=torch.float64).reshape(m.B[r].shape).float()
        model.zero_grad(set_to_none=True)
        with torch.enable_grad():
            losses = model.forward_ttt(x, y, lora)
            (losses * weights).sum().backward()
        grads = {}
        for name, m in lora_modules(lora):
            grads[f"{name}.A"] = summary(m.A.grad)
            grads[f"{name}.B"] = summary(m.B.grad)
        cases.append(dict(
            name=case["name"], rank=case["rank"], k_lora=case["k"], mlp_lora=case["mlp"], o_lora=case["o"],
            lora_scale=lora_scale, b_bound=b_bound,
            losses=[[round(float(v), 8) for v in row] for row in losses.detach()],
            weighted_loss=float((losses.detach().double() * weights.double()).sum()),
            gradients=grads))
        print(f"{family['name']} {case['name']}: Σw·loss {cases[-1]['weighted_loss']:.6f} (scale {lora_scale})")

    # --- varlen base forward, as train_val_ttt_global_sgd_distributed calls it ------------------------
    # Start 40 tokens before the document start whose window holds the most document starts (mid-document).
    offset = max((p - 40 for p in bos if p >= 40 and p - 40 + BASE_TOKENS < len(stream)),
                 key=lambda o: sum(1 for q in bos if o <= q < o + BASE_TOKENS))
    local = torch.from_numpy(stream[offset:offset + BASE_TOKENS + 1])
    x_flat, y_flat = local[:-1], local[1:]
    bos_pos = (x_flat == 1).nonzero(as_tuple=True)[0].tolist()
    cu_seqlens, max_seqlen = mod._build_cu_seqlens(bos_pos, x_flat.numel(), x_flat.device, h.eval_seq_len, 64)
    model.zero_grad(set_to_none=True)
    with torch.enable_grad():
        loss = model(x_flat[None], y_flat[None], cu_seqlens=cu_seqlens, max_seqlen=max_seqlen)
        loss.backward()
    raw = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    unbanked = mod._unbank_state_dict(raw, n)
    segment_starts = sorted(set(int(b) for b in cu_seqlens.tolist()) - {x_flat.numel()})
    base = dict(offset=offset, tokens=BASE_TOKENS, segment_starts=segment_starts, max_seqlen=int(max_seqlen),
                loss=float(loss.detach()), parameters=sorted(unbanked),
                gradients={name: summary(g) for name, g in sorted(unbanked.items())})
    print(f"{family['name']} base: loss {float(loss.detach()):.6f}, {len(unbanked)} tensors, segments {segment_starts}")

    golden = dict(
        provenance=dict(
            generator="tools/family_grad_goldens.py", record=f"records/track_10min_16mb/{family['record']}",
            record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), torch=torch.__version__,
            weights=f"fixtures/families/{family['name']}/model.weights.json",
            tokens=f"fixtures/families/{family['name']}/val_tokens.bin"),
        ttt=dict(rows=ROWS, columns=COLUMNS, row_starts=starts, row_lengths=lengths, cases=cases),
        base=base)
    (folder / "gradients.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")


MARCH_ROWS, MARCH_COLUMNS, MARCH_OFFSET = 2, 128, 100


def run_march(family: dict, shared: Path) -> None:
    record_dir = shared / fg.RECORDS / family["record"]
    script = record_dir / "train_gpt.py"
    folder = fg.OUT / family["name"]
    stream = fg.read_shard(folder / "val_tokens.bin").astype(np.int64)
    env = dict(fg.MARCH_ENV, **family["env"])
    with tempfile.TemporaryDirectory() as tmp:
        env.update(DATA_PATH=tmp, TOKENIZER_PATH=str(shared / "tokenizers" / family["tokenizer"]))
        mod = fg.exec_record(script, env)
        args = mod.Hyperparameters()
        call = compile(fg.record_call(script.read_text(encoding="utf-8"), "eval_model", "GPT"), str(script), "eval")
        model = eval(call, {"GPT": mod.GPT, "args": args}).float()
    flat = load_fixture_weights(folder)
    template = model.state_dict()
    model.load_state_dict(mod._rebank_state_dict(flat, args.num_layers, template), strict=True)
    model.eval()
    count = MARCH_ROWS * MARCH_COLUMNS
    local = torch.from_numpy(stream[MARCH_OFFSET:MARCH_OFFSET + count + 1])
    x = local[:-1].reshape(MARCH_ROWS, MARCH_COLUMNS)
    y = local[1:].reshape(MARCH_ROWS, MARCH_COLUMNS)
    model.zero_grad(set_to_none=True)
    with torch.enable_grad():
        loss = model(x, y)
        loss.backward()
    raw = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    unbanked = mod._unbank_state_dict(raw, args.num_layers)
    base = dict(offset=MARCH_OFFSET, rows=MARCH_ROWS, columns=MARCH_COLUMNS, loss=float(loss.detach()),
                parameters=sorted(unbanked), gradients={name: summary(g) for name, g in sorted(unbanked.items())})
    print(f"{family['name']} base rows: loss {float(loss.detach()):.6f}, {len(unbanked)} tensors")
    golden = dict(
        provenance=dict(
            generator="tools/family_grad_goldens.py", record=f"records/track_10min_16mb/{family['record']}",
            record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), torch=torch.__version__,
            weights=f"fixtures/families/{family['name']}/model.weights.json",
            tokens=f"fixtures/families/{family['name']}/val_tokens.bin",
            call="model(x, y) on [rows, columns] consecutive stream rows (GPT.forward, mean loss)"),
        base=base)
    (folder / "gradients.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(fg.ROOT.parent / "shared"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    shared = Path(args.shared).resolve()
    torch.set_num_threads(2)
    fg.install_stubs()
    for family in fg.FAMILIES:
        if args.only and family["name"] != args.only:
            continue
        run(family, shared)
    for family in fg.MARCH_FAMILIES:
        if args.only and family["name"] != args.only:
            continue
        run_march(family, shared)


if __name__ == "__main__":
    main()
