#!/usr/bin/env python3
"""Goldens for pgverify's record model families, computed by each record's OWN model and eval code.

Run by hand (never in CI):  /work/venv/bin/python tools/family_goldens.py [--shared ../shared]

For every family below, the record's train_gpt.py is exec'd from the shared corpus at run time (never
copied here) with CPU stand-ins for its GPU-only imports:
  * flash_attn_interface.flash_attn_func / flash_attn_varlen_func -> causal scaled_dot_product_attention
    in float32 (the varlen form runs once per cu_seqlens segment: attention stays inside a segment);
  * torch.compile -> the function itself (eager);
  * triton / triton.language / triton.tools.tensor_descriptor -> inert stubs (the Triton kernels are
    training-only: the fused MLP runs only when `model.training`, the fused CE only in `forward`).
The record's `Hyperparameters` read their env names at exec time, so each family sets them first
(tiny dims). The record's `GPT` is built, every parameter is replaced by random nonzero values (so
gates, lambdas and scales all matter), looping is switched on as the record does before its eval,
and the record's own `eval_val` (document-segmented varlen windows, the number each record logs as
"diagnostic quantized") scores the tokens. The records' submitted score is a TTT eval; TTT is not part
of these goldens. Weights are written by the record's own `_unbank_state_dict` names.
See tools/README.md ("## family_goldens.py") and fixtures/families/README.md.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import os
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "families"
RECORDS = "corpus/parameter-golf/records/track_10min_16mb"

# Shared tiny shape: 6 layers keep every structural feature reachable (loop 1..2 ×2 gives 5 encoder /
# 5 decoder passes and 5 skips, parallel lanes from layer 4, XSA on the last 4, ln_scale by depth).
TINY_ENV = dict(
    NUM_LAYERS="6", MODEL_DIM="32", NUM_HEADS="4", NUM_KV_HEADS="2", MLP_MULT="4",
    ROPE_DIMS="4", ROPE_BASE="10000", LOGIT_SOFTCAP="30", QK_GAIN_INIT="5.0", TIE_EMBEDDINGS="1",
    XSA_LAST_N="4", NUM_LOOPS="2", LOOP_START="1", LOOP_END="2", PARALLEL_START_LAYER="4",
    LN_SCALE="1", SKIP_GATES_ENABLED="1", ROPE_YARN="0",
    TRAIN_SEQ_LEN="256", EVAL_SEQ_LEN="256", ROPE_TRAIN_SEQ_LEN="256",
    # eval_val: VAL_BATCH_TOKENS // (world 1 × grad_accum 8) = 1,024 tokens = 4 windows per forward.
    VAL_BATCH_TOKENS="8192", WORLD_SIZE="1", RANK="0", LOCAL_RANK="0",
    GATE_WINDOW="12",
)
SCORED_TOKENS = 16384  # 64 windows of 256, 16 eval_val batches

FAMILIES = [
    dict(name="sparsegate-smearbos-sp8192",
         record="2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT",
         env=dict(VOCAB_SIZE="8192", SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1",
                  SPARSE_ATTN_GATE_SCALE="0.75", CASEOPS_ENABLED="0"),
         tokenizer="fineweb_8192_bpe.model"),
    dict(name="sparsegate-bosfix9hp-sp1024",
         record="2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611",
         env=dict(VOCAB_SIZE="1024", SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1",
                  SPARSE_ATTN_GATE_SCALE="1.5", CASEOPS_ENABLED="1"),
         tokenizer="fineweb_1024_bpe.model", sidecar=True),
    dict(name="outgate-smear-sp1024",
         record="2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT",
         env=dict(VOCAB_SIZE="1024", EMBEDDING_DIM="32", SMEAR_GATE="1", SMEAR_GATE_WIDTH="10", GATE_ATTN_OUT="1",
                  GATE_MLP_OUT="1", GATE_WIDTH="12", GATE_ATTN_SRC="proj"),
         tokenizer="fineweb_1024_bpe.model"),
    dict(name="gatedattn-sp1024",
         record="2026-04-19_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT",
         env=dict(VOCAB_SIZE="1024", GATED_ATTN_ENABLED="1", CASEOPS_ENABLED="0"),
         tokenizer="fineweb_1024_bpe.model"),
    dict(name="plain-sp1024",
         record="2026-04-14_MultiPhaseGlobalSGD_PhasedTTT",
         env=dict(VOCAB_SIZE="1024"),
         tokenizer="fineweb_1024_bpe.model"),
]


# The March family (BigramHash, value embeddings, SmearGate(dim), NTK RoPE): GPT takes explicit
# arguments (built by the record's own `eval_model = GPT(...)` call, evaluated with its `args`) and is
# scored by its own standard `eval_val` on windows of 2,048 (> the hard-coded 1,024 of its Rotary, so
# the NTK base scaling is exercised).
MARCH_ENV = dict(
    NUM_LAYERS="5", MODEL_DIM="32", NUM_HEADS="4", NUM_KV_HEADS="2", MLP_MULT="3", VOCAB_SIZE="1024",
    ROPE_DIMS="4", ROPE_BASE="10000", LOGIT_SOFTCAP="30", QK_GAIN_INIT="1.5", TIE_EMBEDDINGS="1",
    XSA_LAST_N="3", LN_SCALE="1", DTG_ENABLED="0", GATED_ATTENTION="0", VALUE_RESIDUAL="0",
    BIGRAM_VOCAB_SIZE="97", BIGRAM_DIM="16", VE_ENABLED="1", VE_DIM="8", VE_LAYERS="1,3",
    TRAIN_SEQ_LEN="2048", EVAL_SEQ_LEN="2048", VAL_BATCH_SIZE="32768", MTP_NUM_HEADS="0",
    WORLD_SIZE="1", RANK="0", LOCAL_RANK="0",
)
MARCH_FAMILIES = [
    dict(name="march-bigram-ve-sp1024", record="2026-03-25_ValCalib_GPTQ_XSA_BigramHash3072",
         env=dict(TRIGRAM="0"), tokenizer="fineweb_1024_bpe.model"),
    dict(name="march-trigram-sp1024", record="2026-03-25_ValCalib_GPTQ_XSA_BigramHash3072",
         env=dict(TRIGRAM="1", VE_ENABLED="0", BIGRAM_DIM="32"), tokenizer="fineweb_1024_bpe.model"),
]


# --- CPU stand-ins for the records' GPU-only imports -------------------------------------------------

def _sdpa(q, k, v, causal=True, scale=None):
    """q [B,T,H,D], k/v [B,T,Hkv,D] -> [B,T,H,D], float32; FlashAttention's `causal` and `softmax_scale`
    (None: 1/sqrt(D), as both libraries default)."""
    group = q.size(2) // k.size(2)
    k = k.repeat_interleave(group, dim=2)
    v = v.repeat_interleave(group, dim=2)
    y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=causal,
                                       scale=scale)
    return y.transpose(1, 2)


def flash_attn_func(q, k, v, causal=True, softmax_scale=None, **_):
    return _sdpa(q, k, v, causal=causal, scale=softmax_scale)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=0, max_seqlen_k=0,
                           causal=True, window_size=(-1, -1), **_):
    assert causal and tuple(window_size) == (-1, -1)
    assert torch.equal(cu_seqlens_q, cu_seqlens_k)
    bounds = sorted(set(int(b) for b in cu_seqlens_q.tolist()))
    out = torch.empty_like(q)
    for start, end in zip(bounds[:-1], bounds[1:]):
        out[start:end] = _sdpa(q[None, start:end], k[None, start:end], v[None, start:end])[0]
    return out


class _Anything:
    """Stands in for triton.language's names used in kernel annotations (never executed on CPU)."""
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


def install_stubs():
    # torch.compile would pull in the inductor stack (which probes for a real triton): eager instead.
    torch.compile = lambda fn=None, **kw: fn if fn is not None else (lambda f: f)
    fa = types.ModuleType("flash_attn_interface")
    fa.flash_attn_func = flash_attn_func
    fa.flash_attn_varlen_func = flash_attn_varlen_func
    sys.modules["flash_attn_interface"] = fa
    triton = types.ModuleType("triton")
    triton.jit = lambda fn=None, **kw: fn if fn is not None else (lambda f: f)
    triton.autotune = lambda *a, **kw: (lambda f: f)
    triton.Config = _Anything()
    triton.cdiv = lambda a, b: (a + b - 1) // b
    language = types.ModuleType("triton.language")
    def language_attribute(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()
    language.__getattr__ = language_attribute
    triton.language = language
    tools = types.ModuleType("triton.tools")
    descriptor = types.ModuleType("triton.tools.tensor_descriptor")
    descriptor.TensorDescriptor = _Anything()
    sys.modules.update({"triton": triton, "triton.language": language, "triton.tools": tools,
                        "triton.tools.tensor_descriptor": descriptor})


_BASE_ENV = dict(os.environ)


def exec_record(path: Path, env: dict) -> types.ModuleType:
    os.environ.clear()  # no family's settings may leak into the next
    os.environ.update(_BASE_ENV)
    for key, value in env.items():
        os.environ[key] = value
    module = types.ModuleType(f"record_{path.parent.name}")
    module.__file__ = str(path)
    source = path.read_text(encoding="utf-8")
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


# --- data -------------------------------------------------------------------------------------------

def read_shard(path: Path) -> np.ndarray:
    header = np.fromfile(path, dtype="<i4", count=256)
    assert header[0] == 20240520 and header[1] == 1
    return np.fromfile(path, dtype="<u2", count=int(header[2]), offset=256 * 4)


def write_shard(path: Path, tokens: np.ndarray):
    header = np.zeros(256, dtype="<i4")
    header[0], header[1], header[2] = 20240520, 1, len(tokens)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(tokens.astype("<u2").tobytes())


def densest_documents(source: np.ndarray, count: int) -> int:
    """Index of the BOS where a `count`-token slice of the shard holds the most document starts (so
    the goldens cross many document boundaries: varlen segments, the SmearGate BOS fix)."""
    bos = np.flatnonzero(source == 1)
    starts_in_window = [int(np.searchsorted(bos, b + count) - i) for i, b in enumerate(bos)]
    return int(bos[int(np.argmax(starts_in_window))])


def retokenized_stream(shared: Path, tokenizer: str, count: int) -> tuple[np.ndarray, int]:
    """`count` tokens of the shared val shard (sp1024 ids, one doc per [BOS]+ids) from the document
    start where the slice holds the most documents; for another tokenizer each doc is decoded with
    sp1024 and encoded with `tokenizer`, again as [BOS=1]+ids. Returns the tokens and the shard
    offset of their first document."""
    source = read_shard(shared / "val" / "fineweb_val_000000.bin")
    start = densest_documents(source, count)
    if tokenizer == "fineweb_1024_bpe.model":
        return source[start:start + count].copy(), start
    sp_in = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    sp_out = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / tokenizer))
    bos = [int(b) for b in np.flatnonzero(source == 1) if b >= start] + [len(source)]
    out: list[int] = []
    for doc_start, doc_end in zip(bos[:-1], bos[1:]):
        text = sp_in.decode(source[doc_start + 1:doc_end].tolist())
        out += [1] + sp_out.encode(text)
        if len(out) >= count:
            break
    return np.array(out[:count], dtype=np.uint16), start


# --- weights ----------------------------------------------------------------------------------------

def randomize(model: torch.nn.Module, seed: int):
    """Every parameter random and nonzero: scale-like tensors near 1, matrices ~ 1/sqrt(fan_in)."""
    gen = torch.Generator().manual_seed(seed)
    near_one = ("scale", "lambdas", "resid_mix", "skip_weights")
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name == "tok_emb.weight":
                value = 0.2 * noise
            elif name.endswith("q_gain"):
                value = 2.0 + 0.5 * noise
            elif any(key in name for key in near_one):
                value = 1.0 + 0.25 * noise
            elif p.ndim >= 2:
                value = noise / math.sqrt(p.shape[-1])
            else:
                value = 0.5 * noise
            value = torch.where(value == 0, torch.full_like(value, 1e-3), value)
            p.copy_(value.to(p.dtype))


def write_raw_weights(state: dict, folder: Path, seq_len: int):
    folder.mkdir(parents=True, exist_ok=True)
    entries, blobs, offset = [], [], 0
    for name in sorted(state):
        tensor = state[name].detach().to(torch.float32).contiguous()
        data = tensor.numpy().astype("<f4").tobytes()
        entries.append(dict(name=name, shape=list(tensor.shape), offset=offset))
        blobs.append(data)
        offset += len(data)
    (folder / "model.weights.f32").write_bytes(b"".join(blobs))
    index = dict(format="pgverify-raw-f32", version=1, blob="model.weights.f32", seq_len=seq_len,
                 tensors=entries)
    (folder / "model.weights.json").write_text(json.dumps(index, indent=1) + "\n")


# --- one family -------------------------------------------------------------------------------------

def run_family(family: dict, shared: Path, corpus_commit: str) -> dict:
    record_dir = shared / RECORDS / family["record"]
    script = record_dir / "train_gpt.py"
    env = dict(TINY_ENV, **family["env"])
    stream, shard_offset = retokenized_stream(shared, family["tokenizer"], SCORED_TOKENS + 1)
    folder = OUT / family["name"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # The records' default layout under DATA_DIR (some read DATA_PATH/TOKENIZER_PATH instead).
        vocab = env["VOCAB_SIZE"]
        data_path = Path(tmp) / "datasets" / f"fineweb10B_sp{vocab}"
        data_path.mkdir(parents=True)
        write_shard(data_path / "fineweb_val_000000.bin", stream)
        if family.get("sidecar"):
            # This record's eval_val always reads a CaseOps byte sidecar. We have no CaseOps data, so the
            # sidecar is synthetic: entry p = bytes of token p after token p-1 by the tokenizer's tables
            # (the record's own build_sentencepiece_luts), entry 0 = 0 — what a sidecar for this stream holds.
            sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / family["tokenizer"]))
            probe = exec_record(record_dir / "train_gpt.py", dict(TINY_ENV, **family["env"]))
            base, space, boundary = (t.numpy() for t in probe.build_sentencepiece_luts(sp, int(env["VOCAB_SIZE"]), torch.device("cpu")))
            counts = np.zeros(len(stream), dtype=np.int64)
            counts[1:] = base[stream[1:]] + (space[stream[1:]] & ~boundary[stream[:-1]])
            sidecar = counts.astype(np.uint16)
            write_shard(data_path / "fineweb_val_bytes_000000.bin", sidecar)
            write_shard(folder / "val_bytes.bin", sidecar)
        (Path(tmp) / "tokenizers").mkdir()
        tokenizer_path = Path(tmp) / "tokenizers" / f"fineweb_{vocab}_bpe.model"
        tokenizer_path.symlink_to(shared / "tokenizers" / family["tokenizer"])
        env.update(DATA_PATH=str(data_path), TOKENIZER_PATH=str(tokenizer_path), DATA_DIR=tmp + "/")
        mod = exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        if hasattr(mod, "set_logging_hparams"):
            mod.set_logging_hparams(h)
        val_data = mod.ValidationData(h, torch.device("cpu"))
        model = mod.GPT(h).float()
        randomize(model, seed=20240520)
        if h.num_loops > 0:
            model.looping_active = True  # as train_and_eval does before its evals
        model.eval()
        val_loss, val_bpb = mod.eval_val(h, torch.device("cpu"), val_data, model)
        # Logits samples from the record's forward_logits on whole eval batches: the first batch
        # (rows 0, 1, seq_len-1, last) and the first batch where a document starts mid-batch (the
        # BOS row, where the SmearGate BOS fix acts, and the rows around it). Keys "batch:row".
        seq_len = h.eval_seq_len
        batch_tokens = h.val_batch_tokens // (h.world_size * h.grad_accum_steps)
        model.eval()  # eval_val leaves the model in train mode (fused Triton MLP): back to eager
        stream_t = val_data.val_tokens.to(torch.int64)
        picks = {0: [0, 1, seq_len - 1, batch_tokens - 1]}
        mid = next(p for p in (stream_t[:-1] == 1).nonzero(as_tuple=True)[0].tolist() if p % batch_tokens != 0)
        picks.setdefault(mid // batch_tokens, []).extend([mid % batch_tokens - 1, mid % batch_tokens, mid % batch_tokens + 1])
        sample = {}
        for batch, rows in picks.items():
            x = stream_t[batch * batch_tokens:(batch + 1) * batch_tokens]
            bos = (x == 1).nonzero(as_tuple=True)[0].tolist()
            cu, max_len = mod._build_cu_seqlens(bos, x.numel(), x.device, seq_len, 64)
            with torch.no_grad():
                logits = model.forward_logits(x[None], cu_seqlens=cu, max_seqlen=max_len)[0]
            for r in rows:
                sample[f"{batch}:{r}"] = [round(float(v), 7) for v in logits[r, :16]]
        state = mod._unbank_state_dict(model.state_dict(), h.num_layers)
        write_raw_weights(state, folder, seq_len)
        write_shard(folder / "val_tokens.bin", stream)
        hp_names = ["vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads", "mlp_mult",
                    "tie_embeddings", "logit_softcap", "rope_base", "rope_dims", "ln_scale",
                    "qk_gain_init", "xsa_last_n", "num_loops", "loop_start", "loop_end",
                    "parallel_start_layer", "parallel_final_lane", "skip_gates_enabled",
                    "eval_seq_len", "train_seq_len", "val_batch_tokens", "grad_accum_steps",
                    "world_size", "rope_yarn", "gate_window", "smear_gate_enabled",
                    "smear_gate_width", "sparse_attn_gate_enabled", "sparse_attn_gate_scale",
                    "gated_attn_enabled", "attn_out_gate_enabled", "attn_out_gate_src",
                    "gate_attn_out", "gate_mlp_out", "gate_attn_src", "gate_width", "embedding_dim"]
        hyper = {n: getattr(h, n) for n in hp_names if hasattr(h, n)}
        golden = dict(
            family=family["name"], record=f"records/track_10min_16mb/{family['record']}",
            corpus_commit=corpus_commit,
            record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(),
            tokenizer=family["tokenizer"],
            val_source=dict(shard="val/fineweb_val_000000.bin (sp1024)", first_doc_offset=shard_offset,
                            documents=int((stream == 1).sum())),
            env=env | dict(DATA_PATH="<tmp>", DATA_DIR="<tmp>",
                                                          TOKENIZER_PATH=family["tokenizer"]),
            hyperparameters=hyper, eval="record eval_val (looping_active=True)",
            eval_batch_tokens=batch_tokens, val_tokens=int(val_data.val_tokens.numel()),
            val_loss=val_loss, val_bpb=val_bpb, logits_rows=sample,
            state_dict=sorted(state),
        )
        (folder / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
        print(f"{family['name']}: val_loss {val_loss:.8f} val_bpb {val_bpb:.8f} ({len(state)} tensors)")
        return golden


def record_call(source: str, target: str, function: str) -> ast.Expression:
    """The record's own `target = function(...)` call (ignoring `.to(...)`/`.bfloat16()` chained on it)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target for t in node.targets):
            call = node.value
            while isinstance(call, ast.Call) and not (isinstance(call.func, ast.Name) and call.func.id == function):
                call = call.func.value if isinstance(call.func, ast.Attribute) else None
            if isinstance(call, ast.Call):
                return ast.Expression(body=call)
    raise SystemExit(f"no `{target} = {function}(...)` in the record")


def run_march_family(family: dict, shared: Path, corpus_commit: str) -> dict:
    record_dir = shared / RECORDS / family["record"]
    script = record_dir / "train_gpt.py"
    env = dict(MARCH_ENV, **family["env"])
    stream, shard_offset = retokenized_stream(shared, family["tokenizer"], SCORED_TOKENS + 1)
    folder = OUT / family["name"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        write_shard(Path(tmp) / "fineweb_val_000000.bin", stream)
        env.update(DATA_PATH=tmp, TOKENIZER_PATH=str(shared / "tokenizers" / family["tokenizer"]))
        mod = exec_record(script, env)
        args = mod.Hyperparameters()
        device = torch.device("cpu")
        call = compile(record_call(script.read_text(encoding="utf-8"), "eval_model", "GPT"), str(script), "eval")
        model = eval(call, {"GPT": mod.GPT, "args": args}).float()
        randomize(model, seed=20240521)
        seq_len = args.eval_seq_len
        val_tokens = mod.load_validation_tokens(args.val_files, seq_len)
        sp = spm.SentencePieceProcessor(model_file=args.tokenizer_path)
        luts = mod.build_sentencepiece_luts(sp, args.vocab_size, device)
        grad_accum_steps = 8  # main(): 8 // world_size
        val_loss, val_bpb = mod.eval_val(args, model, 0, 1, device, grad_accum_steps, val_tokens, *luts,
                                         eval_seq_len=seq_len)
        model.eval()
        sample = {}
        with torch.no_grad():
            for window in (0, 3):
                x = val_tokens[window * seq_len:(window + 1) * seq_len].to(torch.int64)
                logits = model.forward_logits(x[None])[0]
                for r in (0, 1, 2, 1023, seq_len - 1):
                    sample[f"{window}:{r}"] = [round(float(v), 7) for v in logits[r, :16]]
        state = mod._unbank_state_dict(model.state_dict(), args.num_layers)
        write_raw_weights(state, folder, seq_len)
        write_shard(folder / "val_tokens.bin", stream)
        hp_names = ["vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads", "mlp_mult",
                    "tie_embeddings", "logit_softcap", "rope_base", "rope_dims", "ln_scale", "qk_gain_init",
                    "xsa_last_n", "bigram_vocab_size", "bigram_dim", "trigram_enabled", "ve_enabled", "ve_dim",
                    "ve_layers", "eval_seq_len", "train_seq_len", "val_batch_size", "dtg_enabled",
                    "gated_attention", "value_residual"]
        golden = dict(
            family=family["name"], record=f"records/track_10min_16mb/{family['record']}",
            corpus_commit=corpus_commit, record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(),
            tokenizer=family["tokenizer"],
            val_source=dict(shard="val/fineweb_val_000000.bin (sp1024)", first_doc_offset=shard_offset,
                            documents=int((stream == 1).sum())),
            env=env | dict(DATA_PATH="<tmp>", TOKENIZER_PATH=family["tokenizer"]),
            hyperparameters={n: getattr(args, n) for n in hp_names if hasattr(args, n)},
            eval="record eval_val (standard windows of eval_seq_len)", eval_batch_tokens=seq_len,
            val_tokens=int(val_tokens.numel()), val_loss=val_loss, val_bpb=val_bpb, logits_rows=sample,
            state_dict=sorted(state),
        )
        (folder / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
        print(f"{family['name']}: val_loss {val_loss:.8f} val_bpb {val_bpb:.8f} ({len(state)} tensors)")
        return golden


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    shared = Path(args.shared).resolve()
    torch.set_num_threads(2)
    install_stubs()
    corpus = shared / "corpus" / "parameter-golf"
    snapshot = corpus / "SNAPSHOT"  # "snapshot of github.com/openai/parameter-golf at commit <sha> (date)"
    commit = snapshot.read_text().strip().splitlines()[0] if snapshot.exists() else "unknown"
    for family in FAMILIES:
        if args.only and family["name"] != args.only:
            continue
        run_family(family, shared, commit)
    for family in MARCH_FAMILIES:
        if args.only and family["name"] != args.only:
            continue
        run_march_family(family, shared, commit)


if __name__ == "__main__":
    main()
