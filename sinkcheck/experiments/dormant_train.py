"""Sink emergence on "switch-off" tasks (docs/empirical.md): train :class:`~sinkcheck.models.gpt.GPT` and measure
Gu et al.'s Sink_1^eps (position 0 = BOS) per run.

Tasks (every sequence is BOS followed by ``T`` tokens; next-token loss on every position):

- ``iid``: the T tokens are i.i.d. uniform over the ``V - 1`` non-BOS ids.  Nothing in the context
  predicts the next token (but see docs/empirical.md: the heads stay on and average, using the
  near-constant mean embedding as a bias, and no sink forms).
- ``bb``: our version of Guo et al. (2024)'s bigram-backcopy task.  Ids 1..V-1 are ordinary
  tokens; the ``n_triggers`` ids 1..n_triggers are triggers.  A fixed bigram table P (seeded by
  ``table_seed``, independent of the run seed) has, for each id, ``support`` allowed successors
  drawn without replacement from the non-trigger ids, with Dirichlet(1) weights; the first token
  after BOS is drawn uniformly from the non-trigger ids.  Triggers never follow each other: row t
  of P also only has non-trigger successors, and with probability ``p_trigger`` a non-trigger
  token is followed by a uniformly drawn trigger instead of a bigram draw.  After a trigger, the
  next token copies the token that followed the previous occurrence of the same trigger; if the
  trigger has not occurred before, it is drawn from P.  So non-trigger positions predict from P
  (the context is useless: the "dormant" queries) and trigger positions need an induction head.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from tqdm import tqdm

from sinkcheck.core.attention import KINDS
from sinkcheck import validate
from sinkcheck.core.metrics import GU_EPS, importance, proxy_scores, sink_rate
from sinkcheck.core.attention_torch import one_thread, pick_device
from sinkcheck.core.limits import check_memory
from sinkcheck.models.gpt import GPT, GPTConfig
from sinkcheck.models.gpt import memory_bytes as gpt_memory_bytes
from sinkcheck.experiments.runs import run_all
from sinkcheck.runtime.tasks import Task

TASKS = ("iid", "bb")


@dataclass(frozen=True)
class TaskConfig:
    """Data of one task (defaults: the CPU runs)."""

    task: str = "bb"  # iid | bb
    T: int = 32  # tokens after BOS
    vocab_size: int = 32  # ids, BOS (id 0) included
    n_triggers: int = 3  # bb: trigger ids 1..n_triggers
    support: int = 4  # bb: successors per row of the bigram table
    p_trigger: float = 0.15  # bb: chance that a non-trigger token is followed by a trigger
    table_seed: int = 1234  # bb: seed of the bigram table (fixed across runs)

    def __post_init__(self) -> None:
        validate.choice("task", self.task, TASKS)
        validate.integer_at_least("T", self.T, 2)
        validate.integer_at_least("n_triggers", self.n_triggers, 1)
        validate.integer_at_least("support", self.support, 1)
        validate.integer_at_least("vocab_size", self.vocab_size, self.n_triggers + self.support + 2)
        validate.in_interval("p_trigger", self.p_trigger, 0.0, 1.0)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation (AdamW; defaults: the CPU runs)."""

    steps: int = 600  # optimiser steps
    batch_size: int = 64  # sequences per step
    lr: float = 3e-3  # AdamW learning rate (constant after a 50-step linear warm-up)
    weight_decay: float = 0.1  # AdamW decoupled weight decay on every weight matrix
    n_eval: int = 100  # held-out sequences for the metric (Gu et al. use 100)

    def __post_init__(self) -> None:
        validate.integer_at_least("steps", self.steps, 0)
        validate.integer_at_least("batch_size", self.batch_size, 1)
        validate.positive("lr", self.lr)
        validate.nonnegative("weight_decay", self.weight_decay)
        validate.integer_at_least("n_eval", self.n_eval, 1)


def memory_bytes(task: TaskConfig, model_cfg: GPTConfig, train: TrainConfig, check: bool = False) -> float:
    """An upper estimate of one run's memory (the model's training,
    :func:`sinkcheck.models.gpt.memory_bytes`, and the n_eval held-out attention maps
    in float64, a few copies); with ``check``, refuse it when it exceeds the machine's memory."""
    model_cfg = replace(model_cfg, vocab_size=task.vocab_size, block_size=task.T)
    maps = 8.0 * 6 * train.n_eval * model_cfg.n_layer * model_cfg.n_head * (task.T + 1) ** 2
    need = gpt_memory_bytes(model_cfg, train.batch_size) + maps
    if check:
        check_memory("n_embd, n_layer, n_head, batch_size", need, "one training run")
    return need


def bigram_table(task: TaskConfig) -> np.ndarray:
    """The fixed (V, V) transition table P of the bb task (rows of BOS unused)."""
    rng = np.random.default_rng(task.table_seed)
    V, nt = task.vocab_size, task.n_triggers
    ordinary = np.arange(nt + 1, V)
    P = np.zeros((V, V))
    for a in range(V):
        succ = rng.choice(ordinary, size=task.support, replace=False)
        P[a, succ] = rng.dirichlet(np.ones(task.support))
    return P


def sample_task_batch(task: TaskConfig, rng: np.random.Generator, n: int, P: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of length T + 1 (BOS first) and a boolean mask of the trigger tokens."""
    V, T, nt = task.vocab_size, task.T, task.n_triggers
    x = np.zeros((n, T + 1), dtype=np.int64)
    if task.task == "iid":
        x[:, 1:] = rng.integers(1, V, size=(n, T))
        return x, np.zeros_like(x, dtype=bool)
    P = bigram_table(task) if P is None else P
    cdf = np.cumsum(P, axis=1)
    rows = np.arange(n)
    last_next = np.full((n, nt + 1), -1)  # token after the last occurrence of each trigger
    x[:, 1] = rng.integers(nt + 1, V, size=n)
    for t in range(2, T + 1):  # vectorised over the batch; the same draws every step
        prev = x[:, t - 1]
        u, r, pick = rng.random(n), rng.random(n), rng.integers(1, nt + 1, size=n)
        bigram = (cdf[prev] <= (u * cdf[prev, -1])[:, None]).sum(axis=1)
        is_trig = (prev >= 1) & (prev <= nt)
        copy = last_next[rows, np.where(is_trig, prev, 0)]
        cur = np.where(r < task.p_trigger, pick, bigram)  # non-trigger: maybe a trigger next
        cur = np.where(is_trig, np.where(copy >= 0, copy, bigram), cur)
        x[:, t] = cur
        last_next[rows[is_trig], prev[is_trig]] = cur[is_trig]
    return x, (x >= 1) & (x <= nt)


@dataclass
class RunResult:
    """One training run: the metric, per-head BOS importance, losses, and the eval maps."""

    sink: float  # Sink_1^eps, Gu et al.'s pooling (proxy scores for unnormalised kinds)
    alpha0: np.ndarray  # (L, H) importance of BOS per head, averaged over the eval sequences (proxy scores)
    bos_raw: float  # mean raw weight on BOS over heads and non-BOS queries
    bias_mass: float | None  # mean raw weight on the key-bias slot (key_bias runs)
    sink_bias: float | None  # Sink_*^eps of the slot: its importance > eps per (sequence, layer, head), averaged (_slot_importance)
    bos_nontrigger: float  # mean proxy BOS weight at non-trigger queries (bb), all queries (iid)
    bos_trigger: float | None  # mean proxy BOS weight at trigger queries (bb)
    diag: np.ndarray  # (L, H) mean proxy weight of the non-BOS queries on themselves
    loss: float  # final held-out loss
    sink_init: float  # Sink_1^eps of the same model at initialisation
    attn: np.ndarray = field(repr=False, default=None)  # (L, H, T+1, T+1) mean eval map
    key_bias: dict | None = None  # Section 3.1's first-token geometry per (layer, head): key_bias_geometry
    curve: list | None = None  # with eval_every: {step, sink, sink_bias, loss} at step 0 and every eval_every steps
    sink_first_content: float | None = None  # with a sink token: Sink^eps of the first token after BOS


def key_bias_geometry(qkv: np.ndarray) -> dict:
    """Gu et al. Section 3.1's reading of the first token as a key bias, per (layer, head), from the
    held-out queries, keys and values ``qkv`` (L, 3, B, H, T, hs) that the scores see: ``k1_ratio``
    and ``v1_ratio``, the first token's key and value norms over the mean norm of the other tokens';
    ``cos_first``, the mean cosine between the first token's key and the queries t > 1, against
    ``cos_other``, the mean cosine between those queries and the other keys they see (1 < j <= t)."""
    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (L, B, H, T, hs)
    kn, vn = np.linalg.norm(k, axis=-1), np.linalg.norm(v, axis=-1)  # (L, B, H, T)
    unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-30)  # noqa: E731
    cos = unit(q[..., 1:, :]) @ np.swapaxes(unit(k), -1, -2)  # (L, B, H, T-1, T): queries t >= 2
    T = k.shape[-2]
    seen = np.tril(np.ones((T - 1, T - 1), dtype=bool))  # query t (row t-1) sees keys 2..t
    ratio = lambda n: n[..., 0].mean(axis=1) / n[..., 1:].mean(axis=(1, 3))  # noqa: E731
    return {"k1_ratio": ratio(kn), "v1_ratio": ratio(vn), "cos_first": cos[..., 0].mean(axis=(1, 3)),
            "cos_other": cos[..., 1:][..., seen].mean(axis=(1, 3))}


def _slot_importance(Abp: np.ndarray, self_weight: np.ndarray | None) -> np.ndarray:
    """The slot's importance alpha* per (layer, head, sequence) from its proxy weights ``Abp``
    (L, H, B, T) at the T real queries.  A K or KV slot has no query of its own: every real query
    sees it, so alpha* is their mean.  The sink token is a real position 0 (Gu et al. Section 7.2):
    its importance is Gu et al.'s alpha_0 = (1 / (T + 1)) sum_{t >= 0} A_{t,0}, its own query
    included, whose proxy weight on itself (``self_weight``, (L, H, B)) is 1 unless it is all zero."""
    if self_weight is None:
        return Abp.mean(axis=3)
    return ((self_weight > 0) + Abp.sum(axis=3)) / (Abp.shape[3] + 1)


def _eval(model: GPT, x: torch.Tensor, trig: np.ndarray, eps: float, geometry: bool = False) -> dict:
    model.eval()
    with torch.no_grad():
        out = model(x[:, :-1], targets=x[:, 1:], return_attn=True)
    model.train()
    A = out["attn"].double().cpu().numpy()  # (L, B, H, T, T)
    A = np.transpose(A, (0, 2, 1, 3, 4))  # (L, H, B, T, T)
    Ab = out["attn_bias"]
    if Ab is not None:  # proxy over real keys and the bias slot together
        Ab = np.transpose(Ab.double().cpu().numpy(), (0, 2, 1, 3))[..., None]  # (L, H, B, T, 1)
        full = proxy_scores(np.concatenate([Ab, A], axis=-1))
        Ap, Abp = full[..., 1:], full[..., 0]
    else:
        Ap, Abp = proxy_scores(A), None
    own = out["attn_sink_self"]
    own = None if own is None else np.transpose(own.double().cpu().numpy(), (0, 2, 1))  # (L, H, B)
    alpha0 = importance(Ap)[..., 0].mean(axis=2)  # (L, H)
    q = trig[:, :-1]  # queries are input positions; trigger flags of the inputs
    col0 = Ap[..., 1:, 0]  # (L, H, B, T-1): BOS weight of the non-BOS queries
    qn = ~q[:, 1:]
    return {
        "sink": sink_rate(np.moveaxis(Ap, 2, 0), k=0, eps=eps),  # maps per sequence: (B, L, H, T, T)
        "alpha0": alpha0,
        "bos_raw": float(A[..., 1:, 0].mean()),
        "bias_mass": None if Ab is None else float(Ab[..., 0].mean()),
        "sink_bias": None if Abp is None else float(np.mean(_slot_importance(Abp, own) > eps)),
        "sink_first_content": None if own is None else sink_rate(np.moveaxis(Ap, 2, 0), k=1, eps=eps),
        "bos_nontrigger": float(col0[..., qn].mean()),
        "bos_trigger": float(col0[..., q[:, 1:]].mean()) if q[:, 1:].any() else None,
        "diag": np.diagonal(Ap, axis1=-2, axis2=-1)[..., 1:].mean(axis=(2, 3)),
        "loss": float(out["loss"]),
        "attn": Ap.mean(axis=2),
        "key_bias": key_bias_geometry(out["qkv"].double().cpu().numpy()) if geometry else None,
    }


@one_thread()
def train_run(task: TaskConfig, model_cfg: GPTConfig, train: TrainConfig, seed: int = 0,
              device: str = "cpu", eps: float = GU_EPS, progress: bool = False, eval_every: int = 0,
              on_trained=None) -> RunResult:
    """Train one model from scratch (seeded) and measure its sinks on n_eval held-out sequences
    (with ``eval_every`` > 0 also at step 0 and every ``eval_every`` steps: Section 4's emergence
    curve; the evaluations draw nothing, so the training is the same bytes with or without them).

    The training stream is drawn from ``default_rng([seed, 0])``, the eval set from
    ``default_rng([seed, 1])``, the weights from ``torch.manual_seed(seed)``.  ``on_trained``, if
    given, is called with the trained model, the held-out ids and their trigger flags (more measurements).
    """
    validate.integer_at_least("seed", seed, 0)
    model_cfg = replace(model_cfg, vocab_size=task.vocab_size, block_size=task.T)
    dev = pick_device(device)
    model = GPT(model_cfg, seed=seed).to(dev)
    P = bigram_table(task) if task.task == "bb" else None
    x_eval, trig_eval = sample_task_batch(task, np.random.default_rng([seed, 1]), train.n_eval, P)
    x_eval_t = torch.as_tensor(x_eval, device=dev)
    validate.integer_at_least("eval_every", eval_every, 0)
    init = _eval(model, x_eval_t, trig_eval, eps)
    point = lambda step, e: {"step": step, "sink": e["sink"], "sink_bias": e["sink_bias"], "loss": e["loss"]}  # noqa: E731
    curve = [point(0, init)] if eval_every else None
    opt = model.configure_optimizers(train.weight_decay, train.lr)
    rng = np.random.default_rng([seed, 0])
    bar = tqdm(range(train.steps), desc=f"{task.task}/{model_cfg.kind}/wd={train.weight_decay}/seed={seed}",
               disable=not progress, leave=False)
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = train.lr * min(1.0, (step + 1) / 50)
        xb, _ = sample_task_batch(task, rng, train.batch_size, P)
        xb = torch.as_tensor(xb, device=dev)
        loss = model(xb[:, :-1], targets=xb[:, 1:])["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if eval_every and (step + 1) % eval_every == 0 and step + 1 < train.steps:
            curve.append(point(step + 1, _eval(model, x_eval_t, trig_eval, eps)))
    res = _eval(model, x_eval_t, trig_eval, eps, geometry=True)
    if on_trained is not None:
        on_trained(model, x_eval_t, trig_eval)
    if eval_every:
        curve.append(point(train.steps, res))
    return RunResult(sink_init=init["sink"], curve=curve, **res)


PROFILES = {
    # quick: the CPU defaults (about 30 runs of 600 steps; a few minutes on 2 cores)
    "quick": {"seeds": (0, 1, 2), "steps": 600, "weight_decays": (0.0, 0.1, 1.0, 5.0), "mlp_variant": False},
    # full: more seeds, longer runs, Gu et al.'s whole weight-decay list, and the MLP variant
    "full": {"seeds": tuple(range(10)), "steps": 3000,
             "weight_decays": (0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0), "mlp_variant": True},
}
BASE_WD = 0.1


def grid(profile: str = "quick", seeds: tuple[int, ...] | None = None, steps: int | None = None,
         kinds: tuple[str, ...] = KINDS, tasks: tuple[str, ...] = TASKS,
         weight_decays: tuple[float, ...] | None = None, mlp: bool = False) -> list[dict]:
    """The list of runs of one experiment: every (task, kind) at weight decay 0.1, the weight-decay
    sweep (softmax, bb), the key-bias variant (softmax, bb) and, in "full", the MLP variant.

    Each entry is a dict with task, kind, mlp, key_bias, weight_decay, seed, steps; ``mlp=True``
    gives every block an MLP (default: attention only).
    """
    validate.choice("profile", profile, tuple(PROFILES))
    p = PROFILES[profile]
    seeds = p["seeds"] if seeds is None else seeds
    steps = p["steps"] if steps is None else steps
    wds = p["weight_decays"] if weight_decays is None else weight_decays
    for k in kinds:
        validate.choice("kind", k, KINDS)
    for t in tasks:
        validate.choice("task", t, TASKS)
    base = {"mlp": mlp, "key_bias": False, "weight_decay": BASE_WD, "steps": steps}
    runs = [dict(base, task=t, kind=k, seed=s) for t in tasks for k in kinds for s in seeds]
    if "bb" in tasks and "softmax" in kinds:
        runs += [dict(base, task="bb", kind="softmax", weight_decay=wd, seed=s)
                 for wd in wds if wd != BASE_WD for s in seeds]
        runs += [dict(base, task="bb", kind="softmax", key_bias=True, seed=s) for s in seeds]
        if p["mlp_variant"] and not mlp:
            runs += [dict(base, task="bb", kind=k, mlp=True, seed=s) for k in kinds for s in seeds]
    return runs


def _train_task(kind: str, params: dict, seed: int, device: str, progress: bool = False) -> RunResult:
    """One engine task: :func:`train_run` of one entry of :func:`grid` (its device is one of ``params``,
    so the engine's is not used)."""
    return train_run(TaskConfig(task=params["task"]),
                     GPTConfig(kind=params["kind"], mlp=params["mlp"], slot="k" if params["key_bias"] else "none"),
                     TrainConfig(steps=params["steps"], weight_decay=params["weight_decay"]), seed=seed,
                     device=params["device"], progress=progress)


def experiment(profile: str = "quick", seeds: tuple[int, ...] | None = None, steps: int | None = None,
               kinds: tuple[str, ...] = KINDS, tasks: tuple[str, ...] = TASKS,
               weight_decays: tuple[float, ...] | None = None, mlp: bool = False, key_bias: bool = True,
               device: str = "cpu", progress: bool = True) -> list[tuple[dict, RunResult]]:
    """Train every run of :func:`grid` (without the key-bias variant unless ``key_bias``) and pair each
    with its result (same seeds => same numbers on CPU): ``sinkcheck train dormant`` and the report."""
    runs = [r for r in grid(profile, seeds=seeds, steps=steps, kinds=kinds, tasks=tasks, weight_decays=weight_decays,
                            mlp=mlp) if key_bias or not r["key_bias"]]
    tasks_ = [Task("train dormant", {**{k: v for k, v in r.items() if k != "seed"}, "device": device}, r["seed"])
              for r in runs]
    results = run_all(tasks_, functools.partial(_train_task, progress=progress), progress=progress,
                      desc="train dormant")
    return list(zip(runs, results))
