"""PyTorch side of Benchmarks/phased_ttt.sh: times the record's own `eval_val_ttt_phased` (2026-04-14,
exec'd from the corpus as tools/phased_ttt_goldens.py does) on a random plain-family model, and writes
that model's weights in pgverify's raw float32 format so `verify eval --mode ttt-phased` runs the same
weights. LoRA `A` is drawn from pgverify's LoRAInit stream (as the goldens patch it) so both sides
compute the same numbers; no tracer is installed while timing.

    python Benchmarks/pytorch_phased_ttt.py --weights-dir DIR [--dim 128] [--layers 6] [--threads 2]
Prints one JSON object: seconds, cpu_seconds (all threads), targets, val_loss, val_bpb, env.
"""
import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import family_goldens as fg  # noqa: E402
import phased_ttt_goldens as pg  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--weights-dir", required=True)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-targets", type=int, default=None,
                        help="only the first N targets of the tokens (written to the weights dir as val_tokens.bin)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra record env")
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    # As tools/phased_ttt_goldens.py: torch._dynamo before the CPU stand-ins for the GPU-only imports.
    importlib.import_module("torch._dynamo")
    fg.install_stubs()
    shared = Path(opts.shared).resolve()
    family = next(f for f in fg.FAMILIES if f["name"] == "plain-sp1024")
    script = shared / fg.RECORDS / pg.RECORD / "train_gpt.py"
    env = dict(fg.TINY_ENV, **family["env"], **pg.BASE_TTT, MODEL_DIM=str(opts.dim), NUM_LAYERS=str(opts.layers))
    env.update(item.split("=", 1) for item in opts.set)
    env["RUN_ID"] = f"pgverify_bench_{os.getpid()}"
    stream = fg.read_shard(ROOT / "fixtures" / "families" / "plain-sp1024" / "val_tokens.bin")
    if opts.max_targets is not None:
        stream = stream[:opts.max_targets + 1]
    fg.write_shard(Path(opts.weights_dir) / "val_tokens.bin", stream)
    with tempfile.TemporaryDirectory() as tmp:
        pg.record_data_dir(tmp, env, stream, shared, family["tokenizer"])
        mod = fg.exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        mod.log = lambda msg, console=True: None
        val_data = mod.ValidationData(h, torch.device("cpu"))
        model = mod.GPT(h).float()
        fg.randomize(model, seed=20240601)
        if h.num_loops > 0:
            model.looping_active = True
        fg.write_raw_weights(mod._unbank_state_dict(model.state_dict(), h.num_layers), Path(opts.weights_dir),
                             h.eval_seq_len)
        pg.ready_for_ttt(model, h)

        # LoRA A from pgverify's stream for the documents of the batch being scored (as the goldens do;
        # the batch is read from the record's own claim of the queue instead of a line tracer).
        if getattr(mod, "BOS_ID", None) is None:
            mod.BOS_ID = 1  # what eval_val_ttt_phased sets before it finds documents
        docs = mod._find_docs(val_data.val_tokens)
        queue = [entries for _, entries in mod._build_ttt_global_batches(list(enumerate(docs)), h)]
        current = {"queue": None}
        original_claim = mod._claim_next_batch

        def claim(counter_path, queue_len):
            index = original_claim(counter_path, queue_len)
            current["queue"] = index if index < queue_len else None
            return index

        def overwrite_a(lora):
            pg.overwrite_lora_a(lora, None if current["queue"] is None else queue[current["queue"]])

        original_init, original_reset = mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset

        def patched_init(self, *a, **k):
            original_init(self, *a, **k)
            overwrite_a(self)

        def patched_reset(self):
            original_reset(self)
            overwrite_a(self)
        mod._claim_next_batch = claim
        mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset = patched_init, patched_reset
        started, cpu_started = time.perf_counter(), time.process_time()
        val_loss, val_bpb = mod.eval_val_ttt_phased(h, model, torch.device("cpu"), val_data, model.forward_ttt)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        for suffix in ("ttt_counter_", "ttt_prefix_counter_", "ttt_pause_flag_"):
            Path(f"/tmp/{suffix}{h.run_id}").unlink(missing_ok=True)
    print(json.dumps(dict(seconds=seconds, cpu_seconds=cpu_seconds, targets=int(val_data.val_tokens.numel()) - 1, val_loss=val_loss,
                          val_bpb=val_bpb, env={k: v for k, v in env.items() if k not in ("DATA_PATH", "DATA_DIR", "TOKENIZER_PATH")})))


if __name__ == "__main__":
    main()
