#!/usr/bin/env python3
"""Goldens for learned per-repeat vectors on weight-shared blocks, computed by the code that applies them (issue #14, item 4).

Run by hand (never in CI):  /work/venv/bin/python tools/repeat_vector_goldens.py [--shared ../shared] [--prcorpus /work/prcorpus]

Weight-shared forks learn a vector per repeat (or per schedule position) around each application of a shared block:
added to its input (`x = x + self.loop_embed[i]`), multiplying and added to its output
(`x = x * self.loop_scales[r, b] + self.loop_biases[r, b]` after the block, pull request #648,
2026-03-22_DepthRecurrence). No
fork in the pull-request corpus has such vectors on an otherwise evaluable model (the ones found also use BigramHash,
SmearGate, value embeddings, cross-repeat skips or loop-level skips; docs/conformance.md), so the forms here are the
code of pull request #167 (2026-03-19_DepthRecurrence_LayerSharing, prcorpus 62959cd57bcb, imported from the corpus,
never copied) and of the challenge's baseline train_gpt.py, each edited to add the vectors in one of the spellings
found in the forks. The edits are recorded in the golden.

Each form runs 3 unique blocks over a depth of 9 on the weights of tools/cycled_block_goldens.py
(fixtures/conformance/cycled.weights.*, read back here) plus its own learned vectors (seeded by the tensor's name:
shifts 0.5·N(0,1), scales 1 + 0.3·N(0,1)), scored by the edited code's own `eval_val` (standard, float32, CPU,
4,096 tokens at seq_len 128), and the #167 and affine forms also by the 2026-04-01 record's sliding evaluator (stride 32),
as tools/cycled_block_goldens.py does.

Writes fixtures/conformance/repeat.{weights.f32,goldens.json} and one fixtures/conformance/repeat.<form>.weights.json
per form (its tensors in the shared blob).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import types
import zlib
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cycled_block_goldens import BASELINE, BLOCKS, CONFIG, MAX_TOKENS, SEQ_LEN, UNIQUE  # noqa: E402
from eval_goldens import SLIDING_RECORD, LogitCapture, attach_forward_logits, load_record_sliding, val_tokens  # noqa: E402
from variant_goldens import form_source, import_edited, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
SLIDING_STRIDE = 32

BASELINE_LOOPS = """        for i in range(self.num_encoder_layers):
            x = self.blocks[i](x, x0)
            skips.append(x)
        for i in range(self.num_decoder_layers):
            if skips:
                x = x + self.skip_weights[i].to(dtype=x.dtype)[None, None, :] * skips.pop()
            x = self.blocks[self.num_encoder_layers + i](x, x0)
"""
FINAL_NORM = "        self.final_norm = RMSNorm()\n"


def parameter(name: str, rows: str) -> tuple[str, str]:
    """Registers `self.<name>` of shape [<rows>, model_dim] after the final norm."""
    return (FINAL_NORM, FINAL_NORM + f"        self.{name} = nn.Parameter(torch.zeros({rows}, model_dim, dtype=torch.float32))\n")


# A per-position embedding added to each block's input (`loop_embed[i]`, [depth, C]); in the decoder, added inside the call.
LOOP_EMBED_MODULO = """        for i in range(self.num_encoder_layers):
            x = x + self.loop_embed[i].to(dtype=x.dtype)[None, None, :]
            x = self.blocks[i % len(self.blocks)](x, x0)
            skips.append(x)
        for i in range(self.num_decoder_layers):
            if skips:
                x = x + self.skip_weights[i].to(dtype=x.dtype)[None, None, :] * skips.pop()
            x = self.blocks[(self.num_encoder_layers + i) % len(self.blocks)](x + self.loop_embed[self.num_encoder_layers + i], x0)
"""


def nested(before_block: str, call: str, after_block: str, loop: str = "for repeat in range", blocks: str = "for block in self.blocks") -> str:
    """The nested repeat loop over the blocks with text before, at and after each block application."""
    return f"""        depth = 0
        {loop}((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks)):
            {blocks}:
{before_block}                if depth >= self.num_encoder_layers and skips:
                    x = x + self.skip_weights[depth - self.num_encoder_layers].to(dtype=x.dtype)[None, None, :] * skips.pop()
                x = {call}
{after_block}                if depth < self.num_encoder_layers:
                    skips.append(x)
                depth += 1
"""


# A per-repeat embedding ([repeats, C]) added before each block (before the skip, in the decoder) or after it.
REPEAT_EMBED_INPUT = nested("                x = x + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n", "block(x, x0)", "")
REPEAT_EMBED_OUTPUT = nested("", "block(x, x0) + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]", "")
REPEAT_EMBED_INPUT_ROTATED = nested(
    "                x = x + self.repeat_embed[(repeat + 1) % 3].to(dtype=x.dtype)[None, None, :]\n", "block(x, x0)", "")
# Per (repeat, block) affine of the output ([repeats, blocks, C] each), the spelling of pull request #648 (2026-03-22_DepthRecurrence).
AFFINE = """                scale = self.loop_scales[loop_idx, blk_idx].to(dtype=x.dtype)[None, None, :]
                bias = self.loop_biases[loop_idx, blk_idx].to(dtype=x.dtype)[None, None, :]
                x = x * scale + bias
"""
LOOP_AFFINE = nested("", "block(x, x0)", AFFINE, loop="for loop_idx in range", blocks="for blk_idx, block in enumerate(self.blocks)")
LOOP_AFFINE_ROTATED = nested("", "block(x, x0)", AFFINE.replace("[loop_idx, blk_idx]", "[loop_idx, (blk_idx + 1) % len(self.blocks)]"),
                             loop="for loop_idx in range", blocks="for blk_idx, block in enumerate(self.blocks)")

AFFINE_PARAMETERS = (FINAL_NORM, FINAL_NORM
                     + "        self.loop_scales = nn.Parameter(torch.ones(3, 3, model_dim, dtype=torch.float32))\n"
                     + "        self.loop_biases = nn.Parameter(torch.zeros(3, 3, model_dim, dtype=torch.float32))\n")

PR167 = "records/track_non_record_16mb/2026-03-19_DepthRecurrence_LayerSharing/train_gpt.py"
PR167_LOOP_EMBED = [
    parameter("loop_embed", "num_layers"),
    ("            x = self.blocks[self._layer_map[i]](x, x0)\n",
     "            x = x + self.loop_embed[i].to(dtype=x.dtype)[None, None, :]\n"
     "            x = self.blocks[self._layer_map[i]](x, x0)\n"),
    ("            x = self.blocks[self._layer_map[self.num_encoder_layers + i]](x, x0)\n",
     "            x = x + self.loop_embed[self.num_encoder_layers + i].to(dtype=x.dtype)[None, None, :]\n"
     "            x = self.blocks[self._layer_map[self.num_encoder_layers + i]](x, x0)\n"),
]

REPEATS = 3
DEPTH = 9
FORMS = [
    dict(name="pr167_loop_embed", pull_request=167, folder="62959cd57bcb", code=PR167, edits=PR167_LOOP_EMBED,
         settings=dict(NUM_UNIQUE_LAYERS="3"), sliding=True),
    dict(name="baseline_loop_embed_modulo", code=BASELINE, edits=[BLOCKS, parameter("loop_embed", "num_layers"),
                                                                   (BASELINE_LOOPS, LOOP_EMBED_MODULO)], settings={}),
    dict(name="baseline_repeat_embed_input", code=BASELINE, edits=[BLOCKS, parameter("repeat_embed", "3"),
                                                                    (BASELINE_LOOPS, REPEAT_EMBED_INPUT)], settings={}),
    dict(name="baseline_repeat_embed_output", code=BASELINE, edits=[BLOCKS, parameter("repeat_embed", "3"),
                                                                     (BASELINE_LOOPS, REPEAT_EMBED_OUTPUT)], settings={}),
    dict(name="baseline_repeat_embed_input_rotated", code=BASELINE, edits=[BLOCKS, parameter("repeat_embed", "3"),
                                                                            (BASELINE_LOOPS, REPEAT_EMBED_INPUT_ROTATED)], settings={}),
    dict(name="baseline_loop_affine", code=BASELINE, edits=[BLOCKS, AFFINE_PARAMETERS, (BASELINE_LOOPS, LOOP_AFFINE)], settings={},
         sliding=True),
    dict(name="baseline_loop_affine_rotated", code=BASELINE, edits=[BLOCKS, AFFINE_PARAMETERS, (BASELINE_LOOPS, LOOP_AFFINE_ROTATED)],
         settings={}),
]


def learned(name: str, shape) -> torch.Tensor:
    """A form's learned vectors, seeded by the tensor's name: scales near 1, shifts around 0."""
    generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    noise = torch.randn(tuple(shape), generator=generator)
    return 1.0 + 0.3 * noise if "scale" in name else 0.5 * noise


def base_state() -> dict[str, torch.Tensor]:
    doc = json.loads((OUT / "cycled.weights.json").read_text())
    blob = (OUT / doc["blob"]).read_bytes()
    state = {}
    for t in doc["tensors"]:
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        values = np.frombuffer(blob, dtype="<f4", count=count, offset=t["offset"])
        state[t["name"]] = torch.from_numpy(values.copy()).reshape(t["shape"])
    return state


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
    eager = types.ModuleType("torch_eager")  # the evaluator's torch.compile is an optimisation: run it eagerly
    eager.__dict__.update(vars(torch))
    eager.compile = lambda fn, **_: fn
    sliding.__globals__["torch"] = eager
    base = base_state()
    tensors: dict[str, torch.Tensor] = dict(base)
    tokens, results, indexes = None, [], {}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for index, form in enumerate(FORMS):
            text, digest = form_source(form, shared, opts.prcorpus)
            env = {k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()}
            module, args = import_edited(text, scratch, f"pg_repeat_{index}", {**env, **form["settings"]})
            model = eval(model_construction(text), {"GPT": module.GPT, "args": args}).float()
            assert len(model.blocks) == UNIQUE
            state = dict(base)
            extra = sorted(set(model.state_dict()) - set(base))
            assert extra, "the form learns vectors"
            for name in extra:
                shape = tuple(model.state_dict()[name].shape)
                if name not in tensors:
                    tensors[name] = learned(name, shape)
                assert tuple(tensors[name].shape) == shape, f"{name} read at two shapes"
                state[name] = tensors[name]
            model.load_state_dict(state, strict=True)
            model.eval()
            if tokens is None:
                tokens = val_tokens(module, shard, SEQ_LEN, MAX_TOKENS, scratch)
            luts = module.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))
            eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
            with torch.inference_mode():
                loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
            entry = dict(name=form["name"], code=form["code"], sha256=digest, edits=[list(e) for e in form["edits"]],
                         settings=form["settings"], vectors=extra, weights=f"repeat.{form['name']}.weights.json",
                         val_loss=float(loss), val_bpb=float(bpb))
            if "pull_request" in form:
                entry.update(pull_request=form["pull_request"], prcorpus_folder=form["folder"])
            print(f"{form['name']}: val_loss={loss:.8f} val_bpb={bpb:.8f}", flush=True)
            if form.get("sliding"):
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
            indexes[form["name"]] = sorted(state)
            results.append(entry)

    offsets, blob = {}, io.BytesIO()
    for name in sorted(tensors):
        offsets[name] = blob.tell()
        blob.write(tensors[name].numpy().astype("<f4").tobytes())
    (OUT / "repeat.weights.f32").write_bytes(blob.getvalue())
    config = dict(CONFIG, num_layers=UNIQUE)  # the blocks the tensors hold; the depth is the code's
    for name, names in indexes.items():
        index = [dict(name=n, shape=list(tensors[n].shape), offset=offsets[n]) for n in names]
        doc = dict(format="pgverify-raw-f32", version=1, blob="repeat.weights.f32", config=config, seq_len=SEQ_LEN, tensors=index)
        (OUT / f"repeat.{name}.weights.json").write_text(json.dumps(doc, indent=1) + "\n")
    goldens = dict(generator="tools/repeat_vector_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   weights="cycled.weights.* (seed 20260318) plus each form's vectors (seeded by name), in repeat.weights.f32",
                   environment={k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()},
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", sliding_record=SLIDING_RECORD, seq_len=SEQ_LEN, max_tokens=MAX_TOKENS,
                   tokens=int(tokens.numel() - 1), depth=DEPTH, forms=results)
    (OUT / "repeat.goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}/repeat.*", flush=True)


if __name__ == "__main__":
    main()
