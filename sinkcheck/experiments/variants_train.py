"""Every attention operation of the registry (``sinkcheck.variants``) trained on Ran-Milo's
trigger task and on the bigram-backcopy ("dormant") task, and where an "off" head's mass goes.

:func:`run` trains one (task, operation, heads, seed): the trigger task with
:class:`~sinkcheck.experiments.trigger_train.TriggerModel` (one layer, H heads summed), the
dormant task with :class:`~sinkcheck.models.gpt.GPT` (2 layers, H heads, no MLP), every other
setting the task's default.  Measured on a held-out seeded batch at the "off" positions (trigger
task: the scored non-trigger positions; dormant task: the non-BOS queries that are not triggers),
raw weights averaged over layers, heads and those queries:

- ``off_first`` on the first token (BOS), ``off_slot`` on the extra column (the dropped column of
  softmax1, a sink logit or a key bias, 1 - the row sum; the sink token's weight; None without one),
  ``off_content`` on the other real keys, ``off_mass`` on all real keys; so a normalising op puts
  1 - off_mass - off_slot "nowhere" (0) and an unnormalised op may put its mass nowhere;
- ``gate_off`` / ``gate_on``: a gated op's mean gate at off / trigger positions (else None);
- ``sink``: Gu et al.'s Sink_1^0.3 on proxy weights (rows renormalised over the real keys and the
  slot; on the dormant task the value of :func:`~sinkcheck.experiments.dormant_train.train_run`);
  ``sink_raw``: the same on the raw weights clipped to [0, 1] (ours: an unnormalised weight above 1
  is no share of a row, so it counts as 1); ``sink_slot``: the slot's Sink* (None without one);
- ``solved`` and ``solved_score``: the rule of :data:`SOLVED`.
"""

from __future__ import annotations

import numpy as np
import torch

from sinkcheck import validate, variants
from sinkcheck.construct.trigger_task import sample_batch
from sinkcheck.core.metrics import GU_EPS, proxy_scores, sink_rate
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments import dormant_train as D
from sinkcheck.experiments import trigger_train as TT
from sinkcheck.models.gpt import GPTConfig

TASKS = ("trigger", "dormant")
"""The two tasks, Ran-Milo's trigger task and our bigram-backcopy task (Guo et al.'s)."""

STEPS = {"trigger": 400, "dormant": 600}
"""The default steps per task (those of ``sinkcheck trigger`` and ``sinkcheck train dormant``)."""

DORMANT_MODEL = {"n_layer": 2, "n_embd": 64, "mlp": False}
"""The dormant task's model besides its operation and heads (the dormant kind's defaults)."""

SOLVED = {"trigger": 0.1, "dormant": 0.9}
"""Thresholds of the solved rule per task (ours).

Trigger task, solved_score is the larger of the RMS error at trigger positions and at non-trigger
positions, each over the RMS trigger target; solved when below 0.1.  Dormant task, solved_score is
the held-out accuracy of the next token after a trigger seen before in the sequence (the copy the
task asks for); solved when at least 0.9."""

RESULT_KEYS = ("task", "attention", "heads", "seed", "steps", "device", "loss", "solved", "solved_score",
               "off_first", "off_slot", "off_content", "off_mass", "gate_off", "gate_on", "sink", "sink_raw",
               "sink_slot")
"""The keys every result of :func:`run` has (more may follow)."""


def check(task: str, attention: str, heads: int, steps: int) -> None:
    """Refuse a bad run before it trains (the error names the parameter)."""
    validate.choice("task", task, TASKS)
    variants.get(attention)
    validate.integer_at_least("heads", heads, 1)
    validate.integer_at_least("steps", steps, 0)
    if task == "dormant" and DORMANT_MODEL["n_embd"] % heads:
        raise InvalidInputError(f"heads: must divide the dormant model's width {DORMANT_MODEL['n_embd']} (got {heads})")


def masses(A: np.ndarray, slot, gate, off: np.ndarray, on: np.ndarray) -> dict:
    """Where the raw mass goes: A (X, B, Q, K) the weights of X maps (layers x heads) on the real
    keys, ``slot`` and ``gate`` (X, B, Q) or None, ``off`` / ``on`` (B, Q) the query masks."""
    mean = lambda a, m: float(a[:, m].mean()) if m.any() else None  # noqa: E731
    return {"off_first": mean(A[..., 0], off), "off_slot": None if slot is None else mean(slot, off),
            "off_content": mean(A[..., 1:].sum(-1), off), "off_mass": mean(A.sum(-1), off),
            "gate_off": None if gate is None else mean(gate, off), "gate_on": None if gate is None else mean(gate, on)}


def sinks(A: np.ndarray, slot, eps: float = GU_EPS) -> dict:
    """Sink_1^eps on proxy weights (over the real keys and the slot), on raw weights clipped to
    [0, 1], and the slot's Sink* (its mean proxy weight over the queries > eps, per map and
    sequence); shapes as in :func:`masses`, square maps."""
    full = A if slot is None else np.concatenate([slot[..., None], A], axis=-1)
    P = proxy_scores(np.clip(full, 0.0, None))  # 1 - a row sum may round below 0
    per_seq = lambda M: np.moveaxis(M, 1, 0)[:, None]  # (B, 1, X, Q, K): Gu et al.'s pooling  # noqa: E731
    return {"sink": sink_rate(per_seq(P if slot is None else P[..., 1:]), k=0, eps=eps),
            "sink_raw": sink_rate(per_seq(np.clip(A, 0.0, 1.0)), k=0, eps=eps),
            "sink_slot": None if slot is None else float(np.mean(P[..., 0].mean(axis=-1) > eps))}


def _np(t) -> np.ndarray | None:
    return None if t is None else t.double().cpu().numpy()


@torch.no_grad()
def _trigger_measure(model: TT.TriggerModel, n: int = 256, seed: int = 10**6) -> dict:
    cfg = model.cfg
    batch = sample_batch(seed + cfg.seed, n, cfg.T, cfg.p, cfg.R, cfg.trigger_prob, cfg.positional)
    f = lambda a: torch.tensor(a, dtype=torch.float32, device=cfg.device)  # noqa: E731
    trig, off = batch.is_trigger, batch.scored & ~batch.is_trigger
    parts = model.parts(f(batch.Z))
    loss = TT.loss_fn(cfg, parts["out"], f(batch.Y), torch.tensor(trig, device=cfg.device),
                      torch.tensor(off, device=cfg.device))
    err = np.linalg.norm(_np(parts["out"]) - batch.Y, axis=-1)
    target = float(np.sqrt((np.linalg.norm(batch.Y, axis=-1)[trig] ** 2).mean()))
    rel = {k: float(np.sqrt((err[m] ** 2).mean())) / target for k, m in (("trigger", trig), ("off", off))}
    A, slot, gate = _np(parts["attn"]), _np(parts["slot"]), _np(parts["gate"])
    score = max(rel.values())
    return {"loss": float(loss), "solved": bool(score < SOLVED["trigger"]), "solved_score": score,
            "relative_error_trigger": rel["trigger"], "relative_error_off": rel["off"],
            **masses(A, slot, gate, off, trig), **sinks(A, slot)}


def _copy_targets(x: np.ndarray, trig: np.ndarray) -> np.ndarray:
    """(B, T) mask of the queries t whose next token is a copy: x_t a trigger seen before t."""
    inp = x[:, :-1]
    return np.stack([trig[:, t] & (inp[:, 1:t] == inp[:, t:t + 1]).any(axis=1) for t in range(inp.shape[1])], axis=1)


def _dormant_measure(model, x: torch.Tensor, trig: np.ndarray) -> dict:
    model.eval()
    with torch.no_grad():
        out = model(x[:, :-1], return_attn=True)
    model.train()
    L, B, H, T, _ = out["attn"].shape
    flat = lambda t: None if t is None else np.moveaxis(_np(t), 2, 1).reshape(L * H, B, *t.shape[3:])  # noqa: E731
    A, slot, gate = flat(out["attn"]), flat(out["attn_bias"]), flat(out["gate"])
    q = trig[:, :-1]
    off = ~q & (np.arange(T) > 0)[None]
    xs = x.cpu().numpy()
    copy = _copy_targets(xs, trig)
    hit = out["logits"].argmax(-1).cpu().numpy() == xs[:, 1:]
    score = float(hit[copy].mean()) if copy.any() else 0.0
    return {"solved": bool(score >= SOLVED["dormant"]), "solved_score": score, "copy_accuracy": score,
            **masses(A, slot, gate, off, q), "sink_raw": sinks(A, None)["sink_raw"]}


def run(task: str, attention: str, heads: int, seed: int, steps: int | None = None, device: str = "cpu") -> dict:
    """Train one operation on one task and measure it (the module docstring; :data:`RESULT_KEYS`)."""
    steps = STEPS[validate.choice("task", task, TASKS)] if steps is None else steps
    check(task, attention, heads, steps)
    op = variants.get(attention)
    head = {"task": task, "attention": attention, "heads": heads, "seed": seed, "steps": steps, "device": device,
            "normalises": op.normalises, "extra": op.extra, "score": op.score}
    if task == "trigger":
        model, _ = TT.train(TT.TriggerRunConfig(attention=attention, heads=heads, steps=steps, seed=seed, device=device))
        return {**head, **_trigger_measure(model)}
    got = {}
    res = D.train_run(D.TaskConfig(task="bb"), GPTConfig(attention=attention, n_head=heads, **DORMANT_MODEL),
                      D.TrainConfig(steps=steps), seed=seed, device=device,
                      on_trained=lambda m, x, t: got.update(_dormant_measure(m, x, t)))
    return {**head, "loss": res.loss, **got, "sink": res.sink, "sink_slot": res.sink_bias, "sink_init": res.sink_init}
