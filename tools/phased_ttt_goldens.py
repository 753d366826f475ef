#!/usr/bin/env python3
"""Goldens for pgverify's phased TTT, computed by the record's OWN `eval_val_ttt_phased`.

Run by hand (never in CI):  /work/venv/bin/python tools/phased_ttt_goldens.py [--shared ../shared]

The record (records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py) is exec'd
from the shared corpus at run time exactly as tools/family_goldens.py does (same CPU stand-ins, same
tiny env, same random weights: the ones of fixtures/families/plain-sp1024, checked bit for bit), and its
own `eval_val_ttt_phased` runs on that folder's val_tokens.bin with small TTT settings. Adaptations, all
in this harness (the record text is untouched):
  * LoRA `A` draws: after the record's own draw (`BatchedTTTLoRA.__init__` / `.reset`), each batch row's
    `A` is overwritten with pgverify's deterministic stream (Reference.LoRAInit) for document = the
    document's index in the record's `_find_docs` list (`doc_entries[i][0]`), adapters numbered in the
    record's reset order (head, every q, every v, every k, every MLP, every o).
  * Fused MLP: `GPT.train()` (global SGD phases) would take the Triton-fused MLP; the harness sets each
    `MLP.use_fused = False`, the record's own eager path with the same math.
  * Fused CE (2026-04-23 and later): FUSED_CE_ENABLED=0 selects the record's own unfused softcapped CE
    in `GPT.forward` (the global SGD loss); the fused one is a CUDA-only Triton kernel.
  * CUDA autocast is inert on CPU; `dist` is not initialised (world size 1, rank 0).
A `sys.settrace` line tracer reads the function's own running sums after each batch, the documents each
global phase trains on and each global step's lr and loss. See tools/README.md and fixtures/ttt/phased/.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402
from ttt_goldens import lora_uniform  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "ttt" / "phased"
RECORD = "2026-04-14_MultiPhaseGlobalSGD_PhasedTTT"

# The record's TTT knobs, scaled to 9 documents of 264…3,106 tokens: batches of 2 (the last has one
# document: the construction path), windows of 128 reaching back over chunks of 32, two global phases
# over the first 6 documents (boundaries 3 and 6), global chunks of 1,024 tokens = 4 sequences of 256.
BASE_TTT = dict(
    TTT_LORA_RANK="4", TTT_LORA_LR="0.01", TTT_CHUNK_SIZE="32", TTT_EVAL_SEQ_LEN="128", TTT_BATCH_SIZE="2",
    TTT_GRAD_STEPS="1", TTT_WEIGHT_DECAY="0.5", TTT_BETA1="0", TTT_BETA2="0.999", TTT_K_LORA="1",
    TTT_MLP_LORA="1", TTT_O_LORA="1", TTT_OPTIMIZER="adam", TTT_EVAL_BATCHES="", VAL_DOC_FRACTION="1.0",
    PHASED_TTT_ENABLED="1", PHASED_TTT_PREFIX_DOCS="6", PHASED_TTT_NUM_PHASES="2",
    GLOBAL_TTT_LR="0.05", GLOBAL_TTT_MOMENTUM="0.9", GLOBAL_TTT_EPOCHS="1", GLOBAL_TTT_CHUNK_TOKENS="1024",
    GLOBAL_TTT_BATCH_SEQS="2", GLOBAL_TTT_WARMUP_START_LR="0.01", GLOBAL_TTT_WARMUP_CHUNKS="2",
    GLOBAL_TTT_GRAD_CLIP="1.0", GLOBAL_TTT_RESPECT_DOC_BOUNDARIES="1", SEED="1337",
)
PLAIN = dict(record=RECORD, family="plain-sp1024")
# The second record: SmearGate with the BOS fix and the sparse attention gate, whose
# BatchedLinearLoRA scales by TTT_LORA_ALPHA / rank and keeps A across resets (TTT_WARM_START_A).
GATED = dict(record="2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT", family="sparsegate-smearbos-sp8192")
CASES = {
    # Adam LoRA + two global SGD phases (the records' defaults, scaled down).
    "adam_two_phases": dict(PLAIN, env={}),
    # No adaptation at all: LoRA lr 0 (B stays 0) and no global epochs: the base model on the same windows.
    "no_adaptation": dict(PLAIN, env=dict(TTT_LORA_LR="0", GLOBAL_TTT_EPOCHS="0")),
    # SGD LoRA, two gradient steps per chunk, only q/v/head adapters, three phases over 5 documents,
    # global batches as plain rows (no doc boundaries), no warmup.
    "sgd_three_phases": dict(PLAIN, env=dict(
        TTT_OPTIMIZER="sgd", TTT_LORA_LR="0.05", TTT_BETA1="0.9", TTT_WEIGHT_DECAY="0.01", TTT_GRAD_STEPS="2",
        TTT_K_LORA="0", TTT_MLP_LORA="0", TTT_O_LORA="0", TTT_BATCH_SIZE="3", PHASED_TTT_PREFIX_DOCS="5",
        PHASED_TTT_NUM_PHASES="3", GLOBAL_TTT_WARMUP_CHUNKS="0", GLOBAL_TTT_RESPECT_DOC_BOUNDARIES="0",
        GLOBAL_TTT_EPOCHS="2", GLOBAL_TTT_GRAD_CLIP="0.5")),
    # The gated record: alpha 8 (scale 2 at rank 4; its default 144 would scale by 36) and warm-started A.
    # FUSED_CE_ENABLED=0: the record's own unfused softcapped CE in GPT.forward (its Triton kernel is CUDA-only).
    "gated_warm_start": dict(GATED, env=dict(TTT_LORA_ALPHA="8", TTT_WARM_START_A="1", FUSED_CE_ENABLED="0")),
}
SETTING_NAMES = [
    "ttt_lora_rank", "ttt_lora_lr", "ttt_chunk_size", "ttt_eval_seq_len", "ttt_batch_size", "ttt_grad_steps",
    "ttt_weight_decay", "ttt_beta1", "ttt_beta2", "ttt_k_lora", "ttt_mlp_lora", "ttt_o_lora", "ttt_optimizer",
    "val_doc_fraction", "phased_ttt_prefix_docs", "phased_ttt_num_phases", "global_ttt_lr",
    "global_ttt_momentum", "global_ttt_epochs", "global_ttt_chunk_tokens", "global_ttt_batch_seqs",
    "global_ttt_warmup_start_lr", "global_ttt_warmup_chunks", "global_ttt_grad_clip",
    "global_ttt_respect_doc_boundaries", "eval_seq_len", "seed",
]


def line_of(tree: ast.AST, function: str, predicate) -> int:
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    hits = sorted({n.lineno for n in ast.walk(fn) if predicate(n)})
    assert len(hits) == 1, f"record layout changed ({function}: {hits})"
    return hits[0]


def is_assign_to(name):
    return lambda n: isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)


def is_call_of(name, statement=ast.Expr):
    def predicate(n):
        if not isinstance(n, statement):
            return False
        call = n.value
        if not isinstance(call, ast.Call):
            return False
        f = call.func
        return (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name)
    return predicate


def expected_weights(folder: Path) -> dict[str, np.ndarray]:
    index = json.loads((folder / "model.weights.json").read_text())
    blob = (folder / index["blob"]).read_bytes()
    out = {}
    for t in index["tensors"]:
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        out[t["name"]] = np.frombuffer(blob, dtype="<f4", count=n, offset=t["offset"]).reshape(t["shape"])
    return out


def record_data_dir(tmp: str, env: dict, stream: np.ndarray, shared: Path, tokenizer: str) -> None:
    """Writes `stream` as the record's only val shard under `tmp`, links the tokenizer beside it, and
    points `env`'s DATA_PATH, TOKENIZER_PATH and DATA_DIR there (the records read them at import)."""
    vocab = env["VOCAB_SIZE"]
    data_path = Path(tmp) / "datasets" / f"fineweb10B_sp{vocab}"
    data_path.mkdir(parents=True)
    fg.write_shard(data_path / "fineweb_val_000000.bin", stream)
    (Path(tmp) / "tokenizers").mkdir()
    tokenizer_path = Path(tmp) / "tokenizers" / f"fineweb_{vocab}_bpe.model"
    tokenizer_path.symlink_to(shared / "tokenizers" / tokenizer)
    env.update(DATA_PATH=str(data_path), TOKENIZER_PATH=str(tokenizer_path), DATA_DIR=tmp + "/")


def ready_for_ttt(model, h) -> None:
    """As the record's main() before its TTT eval (rope_yarn off in the tiny env): the eager MLP, frozen
    parameters, rotary tables rebuilt for ttt_eval_seq_len."""
    for block in model.blocks:
        block.mlp.use_fused = False
    for p in model.parameters():
        p.requires_grad_(False)
    for block in model.blocks:
        block.attn.rotary._cos_cached = None
        block.attn.rotary._sin_cached = None
        block.attn.rotary._seq_len_cached = 0
        block.attn.rotary(h.ttt_eval_seq_len, torch.device("cpu"), torch.float32)


def overwrite_lora_a(lora, entries) -> None:
    """pgverify's LoRAInit draws for the `A` of each row's document (`entries`: the batch's
    `(document index, (start, length))` pairs), adapters in the records' reset order; `B` zeroed.
    Nothing happens for a construction whose size is not the batch's (one the record resets first)."""
    if entries is None or len(entries) != lora.bsz:
        return
    adapters = [lora.lm_head_lora, *lora.q_loras, *lora.v_loras]
    for group in (lora.k_loras, lora.mlp_loras, lora.o_loras):
        if group is not None:
            adapters += list(group)
    with torch.no_grad():
        for b, (doc_index, _) in enumerate(entries):
            for index, adapter in enumerate(adapters):
                bound = np.float32(1) / np.sqrt(np.float32(adapter.A.shape[-1]))
                values = lora_uniform(doc_index, index, adapter.A[b].numel(), bound)
                adapter.A[b].copy_(torch.from_numpy(values).reshape(adapter.A[b].shape))
                adapter.B[b].zero_()


def run_case(name: str, case: dict, shared: Path) -> dict:
    family = next(f for f in fg.FAMILIES if f["name"] == case["family"])
    assert family["record"] == case["record"]
    script = shared / fg.RECORDS / case["record"] / "train_gpt.py"
    folder = ROOT / "fixtures" / "families" / case["family"]
    env = dict(fg.TINY_ENV, **family["env"], **BASE_TTT)
    env.update(case["env"])
    # The record claims batches through /tmp/ttt_*_{run_id} counter files: one run id per process and
    # case, so two runs never share a counter.
    env["RUN_ID"] = f"pgverify_phased_{os.getpid()}_{name}"
    stream = fg.read_shard(folder / "val_tokens.bin")
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)
    mark_batch = line_of(tree, "eval_val_ttt_phased", is_assign_to("batch_num"))
    mark_phase = line_of(tree, "eval_val_ttt_phased", is_call_of("train_val_ttt_global_sgd_distributed"))
    mark_lr = line_of(tree, "train_val_ttt_global_sgd_distributed", is_assign_to("my_seq_s"))
    mark_step = line_of(tree, "train_val_ttt_global_sgd_distributed", is_call_of("backward"))
    with tempfile.TemporaryDirectory() as tmp:
        record_data_dir(tmp, env, stream, shared, family["tokenizer"])
        mod = fg.exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        logs: list[str] = []
        mod.log = lambda msg, console=True: logs.append(str(msg))
        val_data = mod.ValidationData(h, torch.device("cpu"))
        model = mod.GPT(h).float()
        fg.randomize(model, seed=20240520)
        if h.num_loops > 0:
            model.looping_active = True
        state = mod._unbank_state_dict(model.state_dict(), h.num_layers)
        expected = expected_weights(folder)
        assert sorted(state) == sorted(expected)
        for key, value in state.items():
            assert np.array_equal(value.detach().float().numpy(), expected[key]), key
        ready_for_ttt(model, h)

        current = {"entries": None}
        warm = bool(getattr(mod.BatchedLinearLoRA, "_WARM_START_A", False))

        def overwrite_a(lora):
            overwrite_lora_a(lora, current["entries"])

        original_init, original_reset = mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset

        # With warm-started A the record draws A only when it builds the adapters; pgverify draws them
        # for the documents of the first batch they serve, so a reset overwrites A only on first use.
        def patched_init(self, *a, **k):
            original_init(self, *a, **k)
            self._pgverify_fresh = True
            overwrite_a(self)

        def patched_reset(self):
            original_reset(self)
            if not warm or self._pgverify_fresh:
                overwrite_a(self)
            self._pgverify_fresh = False
        mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset = patched_init, patched_reset

        batches, phases, steps = [], [], []

        def tracer(frame, event, arg):
            if frame.f_code.co_filename != str(script):
                return None
            return local

        def local(frame, event, arg):
            if event != "line":
                return local
            f = frame.f_locals
            if frame.f_code.co_name == "eval_val_ttt_phased":
                current["entries"] = f.get("batch_entries")
                if frame.f_lineno == mark_batch:
                    batches.append(dict(
                        batch=int(f["orig_batch_idx"]), queue=int(f["queue_idx"]),
                        documents=[int(i) for i, _ in f["batch_entries"]],
                        loss_sum=float(f["loss_sum"].item()), byte_sum=float(f["byte_sum"].item()),
                        token_count=float(f["token_count"].item())))
                elif frame.f_lineno == mark_phase and (not phases or phases[-1]["phase"] != int(f["current_phase"]) + 1):
                    # (a call spanning lines reports its first line again when the arguments are done)
                    used = f["scored_docs_for_global"]
                    phases.append(dict(phase=int(f["current_phase"]) + 1, after_batches=len(batches),
                                       documents=[[int(b), int(p), int(s), int(n)] for b, p, s, n in used],
                                       tokens=int(f["global_ttt_tokens"].numel()), chunks=[]))
            elif frame.f_code.co_name == "train_val_ttt_global_sgd_distributed":
                if frame.f_lineno == mark_lr:
                    phases[-1]["chunks"].append(dict(chunk=int(f["ci"]), lr=float(f["lr_now"]), losses=[]))
                elif frame.f_lineno == mark_step:
                    phases[-1]["chunks"][-1]["losses"].append(float(f["loss"].item()))
            return local

        sys.settrace(tracer)
        try:
            val_loss, val_bpb = mod.eval_val_ttt_phased(h, model, torch.device("cpu"), val_data, model.forward_ttt)
        finally:
            sys.settrace(None)
        settings = {n: getattr(h, n) for n in SETTING_NAMES}
        settings["ttt_lora_alpha"] = getattr(mod.BatchedLinearLoRA, "_ALPHA", None)
        settings["ttt_warm_start_a"] = warm
        docs = mod._find_docs(val_data.val_tokens)
        result = dict(
            case=name, record=f"records/track_10min_16mb/{case['record']}/train_gpt.py",
            record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), family=case["family"],
            settings=settings, env=dict(case["env"]),
            val_loss=val_loss, val_bpb=val_bpb, val_tokens=int(val_data.val_tokens.numel()),
            documents=[[int(s), int(n)] for s, n in docs],
            batch_queue=[[int(i), [int(d) for d, _ in entries]]
                         for i, entries in mod._build_ttt_global_batches(list(enumerate(docs)), h)],
            batches=batches, phases=phases,
            log=[line for line in logs if line.startswith(("ttt_phased:", "ttp:", "ttpp:", "tttg:", "ttpr:"))],
        )
        print(f"{name}: val_loss {val_loss:.8f} val_bpb {val_bpb:.8f} batches {len(batches)} phases {len(phases)}")
        return result


def helper_values(script: Path) -> dict:
    """The record's pure helpers on small inputs (for the plan tests)."""
    env = dict(fg.TINY_ENV, VOCAB_SIZE="1024", **BASE_TTT)
    mod = fg.exec_record(script, env)
    windows = []
    for pred_len, chunk, seq in [(100, 32, 128), (300, 32, 128), (64, 32, 64), (65, 32, 48), (1, 48, 2048)]:
        n = (pred_len + chunk - 1) // chunk
        windows.append(dict(pred_len=pred_len, chunk_size=chunk, eval_seq_len=seq,
                            windows=[list(mod._compute_chunk_window(ci, pred_len, n, chunk, seq)) for ci in range(n)]))
    cu = []
    for bos, total, max_len in [([], 600, 256), ([0, 5, 6, 300], 520, 256), ([3, 200], 700, 0), ([10], 40, 16)]:
        c, m = mod._build_cu_seqlens(list(bos), total, torch.device("cpu"), max_len, 64)
        cu.append(dict(bos=bos, total=total, max_doc_len=max_len, cu=[int(v) for v in c.tolist()], max_seqlen=int(m)))
    stream = torch.tensor([1, 5, 6, 1, 7, 1, 8, 9, 10, 1, 11, 12], dtype=torch.int64)
    mod.BOS_ID = 1
    docs = mod._find_docs(stream)
    lengths = [(0, 7), (7, 3), (10, 7), (17, 3), (20, 3), (23, 9), (32, 7), (39, 2)]
    batches = []
    for size in (1, 3, 4):
        h = mod.Hyperparameters()
        h.ttt_batch_size = size
        batches.append(dict(batch_size=size, queue=[[i, [d for d, _ in e]] for i, e in
                                                   mod._build_ttt_global_batches(list(enumerate(lengths)), h)],
                            ascending=[[i, [d for d, _ in e]] for i, e in
                                       mod._build_ttt_global_batches(list(enumerate(lengths)), h, ascending=True)]))
    return dict(chunk_windows=windows, cu_seqlens=cu, find_docs=dict(stream=stream.tolist(), docs=[list(d) for d in docs]),
                global_batches=dict(documents=[list(d) for d in lengths], cases=batches))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    shared = Path(args.shared).resolve()
    torch.set_num_threads(1)
    # torch.optim's fused AdamW imports torch._dynamo lazily, which probes for triton: import it while
    # the real (absent) triton is what it sees, before the stand-ins go in.
    importlib.import_module("torch._dynamo")
    fg.install_stubs()
    script = shared / fg.RECORDS / RECORD / "train_gpt.py"
    snapshot = shared / "corpus" / "parameter-golf" / "SNAPSHOT"
    commit = snapshot.read_text().strip().splitlines()[0] if snapshot.exists() else "unknown"
    provenance = dict(record=f"records/track_10min_16mb/{RECORD}/train_gpt.py", corpus_commit=commit,
                      record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), torch=torch.__version__,
                      model="fixtures/families/<family> (weights checked equal)",
                      tokens="fixtures/families/<family>/val_tokens.bin", base_env=dict(BASE_TTT),
                      lora_init="pgverify LoRAInit, document = index in _find_docs, adapters in reset order")
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.only or args.only == "helpers":
        (OUT / "helpers.json").write_text(json.dumps(dict(provenance, **helper_values(script)), indent=1) + "\n")
    for name, case in CASES.items():
        if args.only and args.only != name:
            continue
        result = run_case(name, case, shared)
        (OUT / f"{name}.json").write_text(json.dumps(dict(provenance, **result), indent=1) + "\n")


if __name__ == "__main__":
    main()
