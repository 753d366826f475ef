#!/usr/bin/env python3
"""Goldens for weights fake-quantized in `forward` at evaluation, computed by the code itself (issue #14, item 4).

Run by hand (never in CI):  /work/venv/bin/python tools/fake_quant_goldens.py [--shared ../shared] [--prcorpus /work/prcorpus]

Forms, each a model code plus textual edits (each must occur exactly once) and settings:

- pull request #1677, records/records/track_10min_16mb/2026-03-19_Seq2048_FP16Emb_TunedLR/train_gpt.py (prcorpus
  folder 017665853840): `CastedLinear.forward` fake-quantizes its weight per row to int6 under the module global
  `_QAT_ENABLED` (`clip_abs = w.abs().amax(dim=1).clamp_min(1/31)`, `scale = clip_abs / 31`,
  `(w / scale[:, None]).round().clamp(-31, 31) * scale[:, None]`, straight-through). Its `main` sets the global
  to `USE_INT6` before training and back to False before evaluating: scored with the switch off as written, and
  on (the edit sets it to True before evaluating);
- the challenge's baseline train_gpt.py with its CastedLinear rewritten to fake-quantize under a switch `main`
  sets from a setting (`QAT`, code default 1): per-row int8 in the straight-through spelling, per-row int6 as a
  plain `q` (row max floored before the division by 31), int6 with the bits as the switch and the row maximum
  by `max(dim=1, keepdim=True).values`, 32 steps clamped to (-32, 31) (each row's largest
  positive weight clipped: another number), `trunc` for `round` (another function, which pgverify does not
  describe), a class attribute and a module global as the switch; and the baseline unedited (the switch off).

Each module is imported from the corpus (never copied here) with the settings below in the environment, its
model built by the `GPT(...)` call of its own `main`, loaded with the same random weights (seed 20260407, every
tensor nonzero), the switch set as the edited `main` would leave it, and scored by its own `eval_val`
(standard mode, float32, CPU, 4,096 tokens at seq_len 128), and in sliding windows (stride 64) by the evaluator
tools/eval_goldens.py takes from a record, on logits from the form's own forward (its `F.cross_entropy` stood in
for by one that hands them back).

Writes fixtures/conformance/fakequant.{weights.json,weights.f32,goldens.json}.
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
from eval_goldens import SLIDING_RECORD, load_record_sliding, val_tokens  # noqa: E402
from stack_loop_goldens import random_state  # noqa: E402
from variant_goldens import form_source, import_edited, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
BASELINE = "corpus/parameter-golf/train_gpt.py"
CONFIG = dict(vocab_size=1024, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2,
              tie_embeddings=True, logit_softcap=30.0, rope_base=10000.0)
SEQ_LEN = 128
MAX_TOKENS = 4096
SLIDING_STRIDE = 64

SEQ2048 = "records/records/track_10min_16mb/2026-03-19_Seq2048_FP16Emb_TunedLR/train_gpt.py"
SEQ2048_OFF_AT_EVAL = "    _QAT_ENABLED = False  # Disable QAT for eval/serialization\n"

ORIGINAL_LINEAR = """class CastedLinear(nn.Linear):
    # Keep weights in fp32 for optimizer/state quality, cast at matmul time for bf16 compute.
    def forward(self, x: Tensor) -> Tensor:
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self.weight.to(x.dtype), bias)
"""
SETTING = ('    mlp_mult = int(os.environ.get("MLP_MULT", 2))\n',
           '    mlp_mult = int(os.environ.get("MLP_MULT", 2))\n    qat = bool(int(os.environ.get("QAT", "1")))\n')
CONSTRUCTION = "    restore_low_dim_params_to_fp32(base_model)\n"
CLASS_SWITCH = (CONSTRUCTION, CONSTRUCTION + "    CastedLinear._qat_enabled = args.qat\n")
GLOBAL_SWITCH = (CONSTRUCTION, CONSTRUCTION + "    global QAT_ON\n    QAT_ON = args.qat\n")


def linear(condition: str, body: str, prelude: str = "    _qat_enabled: bool = False\n") -> str:
    return ("class CastedLinear(nn.Linear):\n" + prelude + "    def forward(self, x: Tensor) -> Tensor:\n"
            "        w = self.weight\n        if " + condition + ":\n" + body
            + "        bias = self.bias.to(x.dtype) if self.bias is not None else None\n"
            "        return F.linear(x, w.to(x.dtype), bias)\n")


INT8_STE = ("            scale = w.detach().abs().amax(dim=-1, keepdim=True).div_(127.0).clamp_(min=1.0 / 127.0)\n"
            "            w = w + ((w / scale).round().clamp_(-127, 127) * scale - w).detach()\n")
INT6_PLAIN = ("            row_max = w.float().abs().amax(dim=1)\n"
              "            scale = torch.clamp(row_max, min=1e-8) / 31.0\n"
              "            w = torch.clamp(torch.round(w / scale[:, None]), -31, 31) * scale[:, None]\n")
# The bits as the switch (`fake_quant_bits > 0`), the levels computed from them, the row maximum by `max(...).values`.
INT6_FROM_BITS = ("            levels = 2 ** (self.fake_quant_bits - 1) - 1\n"
                  "            scale = w.detach().abs().max(dim=1, keepdim=True).values.clamp(min=1e-6) / levels\n"
                  "            w_q = (w / scale).round().clamp(-levels, levels) * scale\n"
                  "            w = w + (w_q - w).detach()\n")
BITS_SWITCH = (CONSTRUCTION, CONSTRUCTION + "    CastedLinear.fake_quant_bits = 6 if args.qat else 0\n")
# Scaled to 32 steps and clamped to [-32, 31]: each row's largest positive weight is clipped to 31 steps.
INT6_ASYMMETRIC = INT6_PLAIN.replace("/ 31.0", "/ 32.0").replace("-31, 31)", "-32, 31)")
INT6_TRUNCATED = INT6_PLAIN.replace("torch.round(w / scale[:, None])", "torch.trunc(w / scale[:, None])")

FORMS = [
    dict(name="pr1677_seq2048_off", pull_request=1677, folder="017665853840", code=SEQ2048, edits=[], settings={},
         switch=("_QAT_ENABLED", False), quantized=None),
    dict(name="pr1677_seq2048_on", pull_request=1677, folder="017665853840", code=SEQ2048,
         edits=[(SEQ2048_OFF_AT_EVAL, "    _QAT_ENABLED = True\n")], settings={},
         switch=("_QAT_ENABLED", True), quantized="int6 per row, clamp [-31, 31], row max floored at 1/31"),
    dict(name="baseline_unquantized", code=BASELINE, edits=[], settings={}, switch=None, quantized=None),
    dict(name="baseline_int8_ste_class_switch", code=BASELINE,
         edits=[(ORIGINAL_LINEAR, linear("CastedLinear._qat_enabled", INT8_STE)), SETTING, CLASS_SWITCH],
         settings={}, switch=("CastedLinear._qat_enabled", True), quantized="int8 per row, clamp [-127, 127]"),
    dict(name="baseline_int6_plain_global_switch", code=BASELINE,
         edits=[(ORIGINAL_LINEAR, "QAT_ON = False\n\n\n" + linear("QAT_ON and w.ndim == 2", INT6_PLAIN, prelude="")),
                SETTING, GLOBAL_SWITCH],
         settings={}, switch=("QAT_ON", True), quantized="int6 per row, clamp [-31, 31]"),
    dict(name="baseline_int6_bits_max_values", code=BASELINE,
         edits=[(ORIGINAL_LINEAR, linear("self.fake_quant_bits > 0 and w.ndim == 2", INT6_FROM_BITS,
                                         prelude="    fake_quant_bits: int = 0\n")), SETTING, BITS_SWITCH],
         settings={}, switch=("CastedLinear.fake_quant_bits", 6), quantized="int6 per row from the bits, clamp [-31, 31]"),
    dict(name="baseline_int6_asymmetric_clamp", code=BASELINE,
         edits=[(ORIGINAL_LINEAR, linear("self._qat_enabled", INT6_ASYMMETRIC)), SETTING, CLASS_SWITCH],
         settings={}, switch=("CastedLinear._qat_enabled", True), quantized="int6 per row, clamp [-32, 31]"),
    dict(name="baseline_int6_truncated", code=BASELINE,
         edits=[(ORIGINAL_LINEAR, linear("self._qat_enabled", INT6_TRUNCATED)), SETTING, CLASS_SWITCH],
         settings={}, switch=("CastedLinear._qat_enabled", True), quantized="int6 per row, trunc for round"),
]


def logits_by_capture(module, model):
    """`forward_logits` for a model whose forward returns the loss (the baseline's): its own forward, run with the
    module's `F.cross_entropy` standing in to hand back the logits it is given, as [B, T, V]."""
    real = module.F

    class Capture:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def cross_entropy(logits, targets, reduction="mean"):
            captured.append(logits)
            return logits.sum() * 0

    captured = []

    def forward_logits(input_ids):
        captured.clear()
        module.F = Capture()
        try:
            model(input_ids, input_ids)
        finally:
            module.F = real
        return captured[0].reshape(input_ids.shape[0], input_ids.shape[1], -1)
    return forward_logits


def set_switch(module, switch) -> None:
    if switch is None:
        return
    name, value = switch
    if "." in name:
        owner, attribute = name.split(".")
        setattr(getattr(module, owner), attribute, value)
    else:
        setattr(module, name, value)


def main() -> None:
    # The pull request imports zstandard for its artifact only: a stand-in when the library is absent.
    try:
        import zstandard  # noqa: F401
    except ImportError:
        sys.modules["zstandard"] = types.ModuleType("zstandard")
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--prcorpus", type=Path, default=Path("/work/prcorpus"))
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    state, tokens, results = None, None, []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for index, form in enumerate(FORMS):
            text, digest = form_source(form, shared, opts.prcorpus)
            env = {k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()}
            env["MLP_HIDDEN"] = str(CONFIG["mlp_mult"] * CONFIG["model_dim"])
            module, args = import_edited(text, scratch, f"pg_fakequant_{index}", {**env, **form["settings"]})
            # #1677's main passes a local `mlp_hidden` (its MLP_HIDDEN, else mlp_mult · model_dim).
            hidden = getattr(args, "mlp_hidden", 0) or args.mlp_mult * args.model_dim
            model = eval(model_construction(text), {"GPT": module.GPT, "args": args, "mlp_hidden": hidden}).float()
            if state is None:
                state = random_state(model, torch.Generator().manual_seed(20260407))
                assert all(bool((t != 0).all()) for t in state.values()), "every tensor nonzero"
                tokens = val_tokens(module, shard, SEQ_LEN, MAX_TOKENS, scratch)
            model.load_state_dict(state, strict=True)
            model.eval()
            set_switch(module, form["switch"])
            luts = module.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))
            eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
            with torch.inference_mode():
                loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
                # Sliding windows (stride 64): the scheme pgverify implements (tools/eval_goldens.py's record), on
                # this model's own forward; the record compiles forward_logits for CUDA, eager here.
                model.forward_logits = logits_by_capture(module, model)
                h = types.SimpleNamespace(eval_seq_len=SEQ_LEN, eval_stride=SLIDING_STRIDE, rank=0, world_size=1)
                data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0], has_leading_space_lut=luts[1],
                                             is_boundary_token_lut=luts[2])
                compile_, torch.compile = torch.compile, (lambda fn, **kwargs: fn)
                try:
                    s_loss, s_bpb = load_record_sliding(shared)(h, torch.device("cpu"), data, model)
                finally:
                    torch.compile = compile_
                sliding = dict(evaluator=SLIDING_RECORD + ": eval_val_sliding", stride=SLIDING_STRIDE,
                               val_loss=float(s_loss), val_bpb=float(s_bpb))
            entry = dict(name=form["name"], code=form["code"], sha256=digest, edits=[list(e) for e in form["edits"]],
                         settings=form["settings"], switch=None if form["switch"] is None else list(form["switch"]),
                         quantized=form["quantized"], val_loss=float(loss), val_bpb=float(bpb), sliding=sliding)
            if "pull_request" in form:
                entry.update(pull_request=form["pull_request"], prcorpus_folder=form["folder"])
            results.append(entry)
            print(f"{form['name']}: val_loss={loss:.8f} val_bpb={bpb:.8f}; sliding {s_loss:.8f} {s_bpb:.8f}", flush=True)

    index, blob = [], io.BytesIO()
    for name in sorted(state):
        t = state[name]
        index.append(dict(name=name, shape=list(t.shape), offset=blob.tell()))
        blob.write(t.numpy().astype("<f4").tobytes())
    (OUT / "fakequant.weights.f32").write_bytes(blob.getvalue())
    doc = dict(format="pgverify-raw-f32", version=1, blob="fakequant.weights.f32", config=CONFIG, seq_len=SEQ_LEN, tensors=index)
    (OUT / "fakequant.weights.json").write_text(json.dumps(doc, indent=1) + "\n")
    goldens = dict(generator="tools/fake_quant_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   weights="fakequant.weights.json (random, seed 20260407)",
                   environment={k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()},
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", seq_len=SEQ_LEN, max_tokens=MAX_TOKENS, tokens=int(tokens.numel() - 1), forms=results)
    (OUT / "fakequant.goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}/fakequant.*", flush=True)


if __name__ == "__main__":
    main()
