"""PyTorch side of Benchmarks/family_eval.sh: the record #1 shape (2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611:
11 layers, dim 512, vocab 8192, its logged settings) with random weights, scored by the record's own `eval_val`
(document-segmented varlen batches; exec'd from the corpus with the CPU stand-ins of tools/family_goldens.py) on
`--tokens` targets of the shared val shard re-encoded with the sp8192 tokenizer. Writes the weights in pgverify's
raw float32 format, the token shard and its CaseOps byte sidecar into `--weights-dir` so `verify eval` reads the
same inputs, and prints one JSON object: seconds, cpu_seconds (all threads), targets, val_loss, val_bpb, env, sgemm_gflop (the matrix-product
work of the record's forward at this shape, see `forward_flops`).

    python Benchmarks/pytorch_family_eval.py --weights-dir DIR [--tokens 16384] [--threads 2] [--set KEY=VALUE]...
"""
import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import family_goldens as fg  # noqa: E402

RECORD = "2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611"
TOKENIZER = "fineweb_8192_bpe.model"
# The record's logged run (train_seed42.log) where it differs from its code's defaults; one rank, and one eval
# batch of VAL_BATCH_TOKENS / (1 rank x 8 accumulation steps) tokens.
RECORD_ENV = dict(VOCAB_SIZE="8192", CASEOPS_ENABLED="1", SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1",
                  SPARSE_ATTN_GATE_SCALE="0.5", WORLD_SIZE="1", RANK="0", LOCAL_RANK="0")
# The tied embedding (= the head) at the record's own TIED_EMBED_INIT_STD (0.005) instead of the goldens' 0.2:
# through the x0 residual each row's hidden state leans on its own token's embedding, and at 0.2 (even 0.05) the
# logit of the input token reaches the softcap of 30 (val_loss 19 at 0.05); at 0.005 no logit comes near it.
EMBEDDING_STD = 0.005


def byte_sidecar(mod, stream: np.ndarray, tokenizer: Path, vocab: int) -> np.ndarray:
    """Entry p = bytes of token p after token p-1 by the record's own tables, entry 0 = 0 (no CaseOps data
    exists for us; this is what a sidecar for a plain stream holds)."""
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    base, space, boundary = (t.numpy() for t in mod.build_sentencepiece_luts(sp, vocab, torch.device("cpu")))
    counts = np.zeros(len(stream), dtype=np.int64)
    counts[1:] = base[stream[1:]] + (space[stream[1:]] & ~boundary[stream[:-1]])
    return counts.astype(np.uint16)


def forward_flops(h, model, stream: np.ndarray, mod) -> float:
    """Matrix-product FLOPs of the record's forward over every eval batch: each block pass's q/k/v/out/fc/proj,
    causal attention inside each cu_seqlens segment (QKᵀ and PV over the visible keys only), and the head over
    every row. Element-wise work is not counted."""
    c, heads, kv = h.model_dim, h.num_heads, h.num_kv_heads
    d = c // heads
    f = int(h.mlp_mult * c)
    passes = len(model.encoder_indices) + len(model.decoder_indices)
    seq_len = h.eval_seq_len
    batch = h.val_batch_tokens // (h.world_size * h.grad_accum_steps)
    windows = (len(stream) - 1) // seq_len // (batch // seq_len) * (batch // seq_len)
    flops = 0.0
    for start in range(0, windows * seq_len, batch):
        x = torch.from_numpy(stream[start:start + batch].astype(np.int64))
        bos = (x == 1).nonzero(as_tuple=True)[0].tolist()
        cu, _ = mod._build_cu_seqlens(bos, x.numel(), x.device, seq_len, 64)
        bounds = sorted(set(int(b) for b in cu.tolist()))
        tokens = x.numel()
        linear = 2 * tokens * (c * c + 2 * c * kv * d + c * c + 2 * c * f)
        attention = sum(2 * 2 * heads * d * (n * (n + 1) / 2) for n in (b - a for a, b in zip(bounds[:-1], bounds[1:])))
        flops += passes * (linear + attention) + 2 * tokens * c * h.vocab_size
    return flops


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--weights-dir", required=True)
    parser.add_argument("--tokens", type=int, default=16384, help="targets scored: whole windows of EVAL_SEQ_LEN")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra record env")
    parser.add_argument("--no-eval", action="store_true", help="write the inputs only")
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    importlib.import_module("torch._dynamo")  # before the stand-ins, as tools/phased_ttt_goldens.py
    fg.install_stubs()
    shared = Path(opts.shared).resolve()
    script = shared / fg.RECORDS / RECORD / "train_gpt.py"
    out = Path(opts.weights_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(RECORD_ENV, VAL_BATCH_TOKENS=str(opts.tokens * 8))
    env.update(item.split("=", 1) for item in opts.set)
    env["RUN_ID"] = f"pgverify_bench_{os.getpid()}"
    stream_file = out / "fineweb_val_000000.bin"
    if stream_file.exists():
        stream = fg.read_shard(stream_file)
    else:
        stream, _ = fg.retokenized_stream(shared, TOKENIZER, opts.tokens + 1)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "datasets"
        data.mkdir()
        (Path(tmp) / "tokenizers").mkdir()
        tokenizer = Path(tmp) / "tokenizers" / "fineweb_8192_bpe.model"
        tokenizer.symlink_to(shared / "tokenizers" / TOKENIZER)
        fg.write_shard(data / "fineweb_val_000000.bin", stream)
        env.update(DATA_PATH=str(data), TOKENIZER_PATH=str(tokenizer), DATA_DIR=tmp + "/")
        probe = fg.exec_record(script, env)
        sidecar = byte_sidecar(probe, stream, tokenizer, int(env["VOCAB_SIZE"]))
        fg.write_shard(data / "fineweb_val_bytes_000000.bin", sidecar)
        fg.write_shard(stream_file, stream)
        fg.write_shard(out / "fineweb_val_bytes_000000.bin", sidecar)
        mod = fg.exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        if hasattr(mod, "set_logging_hparams"):
            mod.set_logging_hparams(h)
        mod.log = lambda msg, console=True: None
        val_data = mod.ValidationData(h, torch.device("cpu"))
        model = mod.GPT(h).float()
        fg.randomize(model, seed=20260427)
        with torch.no_grad():
            model.tok_emb.weight.mul_(EMBEDDING_STD / 0.2)
        if h.num_loops > 0:
            model.looping_active = True  # as train_and_eval does before its evals
        fg.write_raw_weights(mod._unbank_state_dict(model.state_dict(), h.num_layers), out, h.eval_seq_len)
        flops = forward_flops(h, model, stream, mod)
        seconds = cpu_seconds = val_loss = val_bpb = None
        if not opts.no_eval:
            model.eval()
            started, cpu_started = time.perf_counter(), time.process_time()
            val_loss, val_bpb = mod.eval_val(h, torch.device("cpu"), val_data, model)
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps(dict(seconds=seconds, cpu_seconds=cpu_seconds, targets=int(val_data.val_tokens.numel()) - 1, val_loss=val_loss,
                          val_bpb=val_bpb, sgemm_gflop=flops / 1e9, threads=opts.threads,
                          env={k: v for k, v in env.items() if k not in ("DATA_PATH", "DATA_DIR", "TOKENIZER_PATH", "RUN_ID")})))


if __name__ == "__main__":
    main()
