"""A byte-level language model on text present on every machine: the Python standard library's
own source files (docs/empirical.md).

Corpus: the ``*.py`` files directly in ``sysconfig.get_paths()["stdlib"]``, in sorted name order,
concatenated (one newline between files) until ``byte_budget`` bytes; the last 5 % is held out.
The corpus therefore depends on the Python version (its hash is recorded in the output).  Tokens
are the 256 byte values; id 256 is BOS, placed at position 0 of every window.

What a short CPU run shows and does not: it exercises the whole path (data, training, the
per-layer Sink_1 measured on 100 held-out windows of length 64, as Gu et al.) and shows the loss
falling; Gu et al. see no sink below ~50M training tokens, and the quick profile sees ~1M, so
the absence of a sink in a quick run is expected and says nothing about larger runs.  The
``full`` profile (6 layers x 6 heads x 384, 20k steps of 32 windows of 256 bytes, 255 predicted
each = 163M tokens) is sized for a GPU (about an hour) or many hours of CPU.
"""

from __future__ import annotations

import hashlib
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from sinkcheck.core.figures import pyplot, save
from sinkcheck import validate
from sinkcheck.core.metrics import GU_EPS, proxy_scores, sink_rates
from sinkcheck.core.attention_torch import one_thread, pick_device
from sinkcheck.models.gpt import GPT, GPTConfig
from sinkcheck.core.tables import Table

BOS = 256
PROFILES = {
    # quick: seconds to minutes on CPU; tests the path, far too small for a sink (see module doc)
    "quick": {"byte_budget": 1_000_000, "n_layer": 2, "n_head": 2, "n_embd": 64, "T": 64, "batch": 16,
              "steps": 200, "eval_every": 100, "lr": 3e-3},
    # cpu: the largest run tried on one CPU core (about 8 minutes): 4 layers x 4 heads x 128, 3.5M tokens
    "cpu": {"byte_budget": 1_000_000, "n_layer": 4, "n_head": 4, "n_embd": 128, "T": 64, "batch": 16,
            "steps": 3500, "eval_every": 250, "lr": 3e-3},
    # full: GPU (or hours of CPU); 20k steps x 32 windows x 255 predicted bytes = 163M training tokens
    "full": {"byte_budget": 50_000_000, "n_layer": 6, "n_head": 6, "n_embd": 384, "T": 256, "batch": 32,
             "steps": 20_000, "eval_every": 1000, "lr": 6e-4},
}
EVAL_T, N_EVAL = 64, 100  # Gu et al.'s metric: 100 held-out sequences of length 64


def stdlib_corpus(byte_budget: int) -> bytes:
    """The first ``byte_budget`` bytes of the sorted stdlib ``*.py`` files, joined by newlines."""
    validate.integer_at_least("byte_budget", byte_budget, 10_000)
    root = Path(sysconfig.get_paths()["stdlib"])
    chunks, total = [], 0
    for path in sorted(root.glob("*.py")):
        data = path.read_bytes() + b"\n"
        chunks.append(data)
        total += len(data)
        if total >= byte_budget:
            break
    return b"".join(chunks)[:byte_budget]


@dataclass
class LMResult:
    """Per evaluation point: step, held-out loss, Sink_1 overall and per layer."""

    profile: str
    kind: str
    seed: int
    corpus_sha256: str
    corpus_bytes: int
    tokens_seen: int
    evals: list[dict]


def _windows(data: np.ndarray, rng: np.random.Generator, n: int, T: int) -> torch.Tensor:
    start = rng.integers(0, len(data) - T, size=n)
    x = np.stack([data[s:s + T] for s in start]).astype(np.int64)
    return torch.as_tensor(np.concatenate([np.full((n, 1), BOS), x], axis=1))  # (n, T + 1)


def _evaluate(model: GPT, x_eval: torch.Tensor, kind: str) -> dict:
    model.eval()
    with torch.no_grad():
        out = model(x_eval[:, :-1], targets=x_eval[:, 1:], return_attn=True)
    model.train()
    A = np.transpose(out["attn"].double().cpu().numpy(), (1, 0, 2, 3, 4))  # (B, L, H, T, T)
    A = proxy_scores(A) if kind != "softmax" else A
    rates = sink_rates(A, eps=GU_EPS)  # Gu et al.'s pooling over sequences x layers x heads
    return {"loss": float(out["loss"]), "sink": float(rates.sink_k[0]),
            "sink_per_layer": [float(x) for x in rates.per_layer[:, 0]]}


@one_thread()
def run(profile: str = "quick", seed: int = 0, steps: int | None = None, kind: str = "softmax",
        device: str = "cpu", progress: bool = True, byte_budget: int | None = None) -> LMResult:
    """Train the byte-level LM and measure Sink_1 per layer every ``eval_every`` steps."""
    validate.choice("profile", profile, tuple(PROFILES))
    validate.integer_at_least("seed", seed, 0)
    p = dict(PROFILES[profile])
    if steps is not None:
        p["steps"] = validate.integer_at_least("steps", steps, 1)
        p["eval_every"] = min(p["eval_every"], p["steps"])
    data = np.frombuffer(stdlib_corpus(byte_budget or p["byte_budget"]), dtype=np.uint8)
    split = int(0.95 * len(data))
    train_data, eval_data = data[:split], data[split:]
    dev = pick_device(device)
    T = max(p["T"], EVAL_T)
    cfg = GPTConfig(vocab_size=257, block_size=T, n_layer=p["n_layer"], n_head=p["n_head"],
                    n_embd=p["n_embd"], kind=kind, mlp=True, bos_id=BOS)
    model = GPT(cfg, seed=seed).to(dev)
    x_eval = _windows(eval_data, np.random.default_rng([seed, 1]), N_EVAL, EVAL_T - 1).to(dev)
    opt = model.configure_optimizers(0.1, p["lr"])
    rng = np.random.default_rng([seed, 0])
    evals = [dict(step=0, **_evaluate(model, x_eval, kind))]
    for step in tqdm(range(1, p["steps"] + 1), desc=f"lm/{kind}", disable=not progress):
        for g in opt.param_groups:
            g["lr"] = p["lr"] * min(1.0, step / 100)
        xb = _windows(train_data, rng, p["batch"], p["T"] - 1).to(dev)
        loss = model(xb[:, :-1], targets=xb[:, 1:])["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % p["eval_every"] == 0 or step == p["steps"]:
            evals.append(dict(step=step, **_evaluate(model, x_eval, kind)))
    return LMResult(profile, kind, seed, hashlib.sha256(data.tobytes()).hexdigest()[:16], len(data),
                    p["steps"] * p["batch"] * (p["T"] - 1), evals)


def table(res: LMResult):
    """The evaluation points as a ``Table`` (step, loss, Sink_1 overall and per layer)."""
    L = len(res.evals[0]["sink_per_layer"])
    return Table(["step", "eval_loss_nats_per_byte", "sink"] + [f"sink_layer_{l}" for l in range(L)],
                 [[e["step"], e["loss"], e["sink"], *e["sink_per_layer"]] for e in res.evals],
                 title=f"Byte-level LM on the stdlib ({res.corpus_bytes} bytes, sha256 {res.corpus_sha256}), "
                       f"{res.kind}, seed {res.seed}, {res.tokens_seen} training tokens")


def summary_json(res: LMResult) -> dict:
    last = res.evals[-1]
    return {"profile": res.profile, "kind": res.kind, "seed": res.seed, "corpus_sha256": res.corpus_sha256,
            "corpus_bytes": res.corpus_bytes, "tokens_seen": res.tokens_seen, "sink": last["sink"],
            "sink_per_layer": last["sink_per_layer"], "loss": last["loss"], "evals": res.evals}


def plot(res: LMResult, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(8, 3))
    steps = [e["step"] for e in res.evals]
    ax[0].plot(steps, [e["loss"] for e in res.evals], "o-")
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("held-out loss (nats/byte)")
    for l in range(len(res.evals[0]["sink_per_layer"])):
        ax[1].plot(steps, [e["sink_per_layer"][l] for e in res.evals], "o-", label=f"layer {l}")
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("Sink_1^0.3")
    ax[1].set_ylim(-0.05, 1.05)
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    save(fig, path, dpi=80)
