#!/usr/bin/env python3
"""Goldens for weight-shared (cycled) blocks, computed by real submissions' own code (issue #14, item 4).

Run by hand (never in CI):  /work/venv/bin/python tools/cycled_block_goldens.py [--shared ../shared] [--prcorpus /work/prcorpus]

Two pull requests run the baseline GPT with a few unique blocks applied over a deeper schedule, the U-Net
skips over that depth, and nothing else changed in the model:

- #167, records/track_non_record_16mb/2026-03-19_DepthRecurrence_LayerSharing (prcorpus folder 62959cd57bcb):
  `NUM_UNIQUE_LAYERS` blocks, a buffer `_layer_map = [i % n_unique for i in range(num_layers)]`,
  `self.blocks[self._layer_map[i]]`;
- #30, records/track_non_record_16mb/2026-03-18_DepthRecurrent_SP1024_5x3x768_GQA12x6 (folder 32d24cf856e5):
  `NUM_UNIQUE_BLOCKS` blocks over `NUM_UNIQUE_BLOCKS * RECURRENCE_DEPTH` layers, `self.blocks[i % n]`.

Each module is imported from the corpus (never copied here) with the settings below in the environment, its
model built by the `GPT(...)` call of its own `main`, loaded with the same random weights (3 unique blocks of
width 32 over a depth of 9, 4 skip weights; seed 20260318, every tensor nonzero) and scored by its own
`eval_val` (standard mode, float32, CPU, 4,096 tokens at seq_len 128). Also on the same weights, by the
edited code's own `eval_val`: #167 with its layer map rotated by one (`(i + 1) % n_unique`), and the
challenge's baseline train_gpt.py rewritten to five forms of the same sharing (a modulo index, a nested
repeat loop over `self.blocks`, a plain list that repeats the blocks, a repeated index list
`list(range(n)) * repeats`, and the modulo index rotated by one). The edits are recorded in the golden.

Sliding: neither pull request has a sliding evaluator, so the forms in SLIDING are also scored by the sliding
evaluator of records/track_10min_16mb/2026-04-01_Vocab4096_MLPMult4_WD085 (exec'd from the shared corpus as
tools/eval_goldens.py does; its `forward_logits` are the logits the form's own `forward` computes, caught at
its cross-entropy; run eagerly, without its `torch.compile`) at stride SLIDING_STRIDE over the same tokens.

Writes fixtures/conformance/cycled.{weights.json,weights.f32,goldens.json}.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import types
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import LogitCapture, attach_forward_logits, load_record_sliding, val_tokens  # noqa: E402
from stack_loop_goldens import random_state  # noqa: E402
from eval_goldens import SLIDING_RECORD  # noqa: E402
from variant_goldens import form_source, import_edited, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
BASELINE = "corpus/parameter-golf/train_gpt.py"
# NUM_LAYERS=9 is every form's code default: the depth the code reads when the run does not set it.
CONFIG = dict(vocab_size=1024, num_layers=9, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2,
              tie_embeddings=True, logit_softcap=30.0, rope_base=10000.0)
UNIQUE = 3
SEQ_LEN = 128
MAX_TOKENS = 4096
# Scored also by the 2026-04-01 record's sliding evaluator: a pull request's schedule and a rotated one.
SLIDING = ("pr167_layer_map", "baseline_modulo_rotated")
SLIDING_STRIDE = 32

LAYER_MAP = "[i % n_unique for i in range(num_layers)]"
BLOCKS = ("                for i in range(num_layers)\n", "                for i in range(3)\n")
MODULO = [
    BLOCKS,
    ("            x = self.blocks[i](x, x0)\n", "            x = self.blocks[i % len(self.blocks)](x, x0)\n"),
    ("            x = self.blocks[self.num_encoder_layers + i](x, x0)\n",
     "            x = self.blocks[(self.num_encoder_layers + i) % len(self.blocks)](x, x0)\n"),
]
MODULO_ROTATED = [
    BLOCKS,
    ("            x = self.blocks[i](x, x0)\n", "            x = self.blocks[(i + 1) % len(self.blocks)](x, x0)\n"),
    ("            x = self.blocks[self.num_encoder_layers + i](x, x0)\n",
     "            x = self.blocks[(self.num_encoder_layers + i + 1) % len(self.blocks)](x, x0)\n"),
]
NESTED_LOOP = """        depth = 0
        for _ in range((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks)):
            for block in self.blocks:
                if depth < self.num_encoder_layers:
                    x = block(x, x0)
                    skips.append(x)
                else:
                    if skips:
                        x = x + self.skip_weights[depth - self.num_encoder_layers].to(dtype=x.dtype)[None, None, :] * skips.pop()
                    x = block(x, x0)
                depth += 1
"""
NESTED = [
    BLOCKS,
    ("""        for i in range(self.num_encoder_layers):
            x = self.blocks[i](x, x0)
            skips.append(x)
        for i in range(self.num_decoder_layers):
            if skips:
                x = x + self.skip_weights[i].to(dtype=x.dtype)[None, None, :] * skips.pop()
            x = self.blocks[self.num_encoder_layers + i](x, x0)
""", NESTED_LOOP),
]

REPEATED_LIST = [
    BLOCKS,
    ("        self.final_norm = RMSNorm()\n",
     "        self.final_norm = RMSNorm()\n        self.schedule = [self.blocks[i % len(self.blocks)] for i in range(num_layers)]\n"),
    ("            x = self.blocks[i](x, x0)\n", "            x = self.schedule[i](x, x0)\n"),
    ("            x = self.blocks[self.num_encoder_layers + i](x, x0)\n",
     "            x = self.schedule[self.num_encoder_layers + i](x, x0)\n"),
]

REPEATED_INDICES = [
    BLOCKS,
    ("        skips: list[Tensor] = []\n",
     "        skips: list[Tensor] = []\n        layer_seq = list(range(len(self.blocks))) * "
     "((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks))\n"),
    ("            x = self.blocks[i](x, x0)\n", "            x = self.blocks[layer_seq[i]](x, x0)\n"),
    ("            x = self.blocks[self.num_encoder_layers + i](x, x0)\n",
     "            x = self.blocks[layer_seq[self.num_encoder_layers + i]](x, x0)\n"),
]

FORMS = [
    dict(name="pr167_layer_map", pull_request=167, folder="62959cd57bcb",
         code="records/track_non_record_16mb/2026-03-19_DepthRecurrence_LayerSharing/train_gpt.py",
         edits=[], settings=dict(NUM_UNIQUE_LAYERS="3"), schedule=[0, 1, 2] * 3),
    dict(name="pr30_modulo", pull_request=30, folder="32d24cf856e5",
         code="records/track_non_record_16mb/2026-03-18_DepthRecurrent_SP1024_5x3x768_GQA12x6/train_gpt.py",
         edits=[], settings=dict(NUM_UNIQUE_BLOCKS="3", RECURRENCE_DEPTH="3"), schedule=[0, 1, 2] * 3),
    dict(name="pr167_layer_map_rotated", pull_request=167, folder="62959cd57bcb",
         code="records/track_non_record_16mb/2026-03-19_DepthRecurrence_LayerSharing/train_gpt.py",
         edits=[(LAYER_MAP, "[(i + 1) % n_unique for i in range(num_layers)]")], settings=dict(NUM_UNIQUE_LAYERS="3"),
         schedule=[1, 2, 0] * 3),
    dict(name="baseline_modulo", code=BASELINE, edits=MODULO, settings={}, schedule=[0, 1, 2] * 3),
    dict(name="baseline_nested_loop", code=BASELINE, edits=NESTED, settings={}, schedule=[0, 1, 2] * 3),
    dict(name="baseline_repeated_list", code=BASELINE, edits=REPEATED_LIST, settings={}, schedule=[0, 1, 2] * 3),
    dict(name="baseline_repeated_indices", code=BASELINE, edits=REPEATED_INDICES, settings={}, schedule=[0, 1, 2] * 3),
    dict(name="baseline_modulo_rotated", code=BASELINE, edits=MODULO_ROTATED, settings={}, schedule=[1, 2, 0] * 3),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--prcorpus", type=Path, default=Path("/work/prcorpus"))
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    sliding = load_record_sliding(shared)
    # The evaluator compiles forward_logits (an optimisation; dynamo cannot trace a tensor index into a
    # ModuleList): run it eagerly.
    eager = types.ModuleType("torch_eager")
    eager.__dict__.update(vars(torch))
    eager.compile = lambda fn, **_: fn
    sliding.__globals__["torch"] = eager
    state, tokens, results = None, None, []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for index, form in enumerate(FORMS):
            text, digest = form_source(form, shared, opts.prcorpus)
            env = {k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()}
            module, args = import_edited(text, scratch, f"pg_cycled_{index}", {**env, **form["settings"]})
            model = eval(model_construction(text), {"GPT": module.GPT, "args": args}).float()
            assert len(model.blocks) == UNIQUE
            if state is None:
                state = random_state(model, torch.Generator().manual_seed(20260318))
                assert all(bool((t != 0).all()) for t in state.values()), "every tensor nonzero"
                assert state["skip_weights"].shape == (4, CONFIG["model_dim"])
                tokens = val_tokens(module, shard, SEQ_LEN, MAX_TOKENS, scratch)
            model.load_state_dict(state, strict=True)
            model.eval()
            luts = module.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))
            eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
            with torch.inference_mode():
                loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
            entry = dict(name=form["name"], code=form["code"], sha256=digest, edits=[list(e) for e in form["edits"]],
                         settings=form["settings"], schedule=form["schedule"], val_loss=float(loss), val_bpb=float(bpb))
            if "pull_request" in form:
                entry.update(pull_request=form["pull_request"], prcorpus_folder=form["folder"])
            print(f"{form['name']}: val_loss={loss:.8f} val_bpb={bpb:.8f}", flush=True)
            if form["name"] in SLIDING:
                capture = LogitCapture()
                module.F = capture
                attach_forward_logits(model, capture)
                h = types.SimpleNamespace(eval_seq_len=SEQ_LEN, eval_stride=SLIDING_STRIDE, rank=0, world_size=1)
                data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0], has_leading_space_lut=luts[1],
                                             is_boundary_token_lut=luts[2])
                with torch.inference_mode():
                    s_loss, s_bpb = sliding(h, torch.device("cpu"), data, model)
                entry["sliding"] = dict(stride=SLIDING_STRIDE, val_loss=float(s_loss), val_bpb=float(s_bpb))
                print(f"  sliding stride={SLIDING_STRIDE}: val_loss={s_loss:.8f} val_bpb={s_bpb:.8f}", flush=True)
            results.append(entry)

    index, blob = [], io.BytesIO()
    for name in sorted(state):
        t = state[name]
        index.append(dict(name=name, shape=list(t.shape), offset=blob.tell()))
        blob.write(t.numpy().astype("<f4").tobytes())
    (OUT / "cycled.weights.f32").write_bytes(blob.getvalue())
    config = dict(CONFIG, num_layers=UNIQUE)  # the blocks the tensors hold; the depth is the code's
    doc = dict(format="pgverify-raw-f32", version=1, blob="cycled.weights.f32", config=config, seq_len=SEQ_LEN, tensors=index)
    (OUT / "cycled.weights.json").write_text(json.dumps(doc, indent=1) + "\n")
    goldens = dict(generator="tools/cycled_block_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   weights="cycled.weights.json (random, seed 20260318: 3 unique blocks, 4 skip weights)",
                   environment={k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()},
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", sliding_record=SLIDING_RECORD, seq_len=SEQ_LEN, max_tokens=MAX_TOKENS, tokens=int(tokens.numel() - 1), forms=results)
    (OUT / "cycled.goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}/cycled.*", flush=True)


if __name__ == "__main__":
    main()
