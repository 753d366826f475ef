"""The model section of the challenge's baseline train_gpt.py, for the stand-in scripts of the audit
fixtures: pgverify matches a submission's model code against its reference model before it evaluates
(docs/conformance.md), so a stand-in around a baseline artifact carries the code that built it."""
import os

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus", "parameter-golf", "train_gpt.py")

HEADER = ('"""Synthetic pgverify fixture: a stand-in for train_gpt.py. It is never run.\n\n'
          'The model classes are the challenge baseline\'s (train_gpt.py, RMSNorm to GPT), which exported the artifact."""\n'
          "import torch\nimport torch.nn.functional as F\nfrom torch import Tensor, nn\n\n"
          "MAX_WALLCLOCK_SECONDS = 600.0\n\n\n")

CONSTRUCTION = ("\n\ndef build_model(args):\n    return GPT(\n"
                + "".join(f"        {name}=args.{name},\n" for name in [
                    "vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads", "mlp_mult", "tie_embeddings",
                    "tied_embed_init_std", "logit_softcap", "rope_base", "qk_gain_init"])
                + "    )\n")


def stand_in(extra: str = "", baseline: str = BASELINE) -> str:
    """The header, the baseline's model classes, the model's construction, then `extra`."""
    with open(baseline) as f:
        text = f.read()
    start = text.index("class RMSNorm(nn.Module):")
    end = text.index("# -----------------------------\n# TRAINING")
    return HEADER + text[start:end].rstrip() + "\n" + CONSTRUCTION + extra
