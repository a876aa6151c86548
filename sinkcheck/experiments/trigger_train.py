"""Training single-layer attention models on the trigger task (docs/trigger.md, experiments).

One causal attention layer with H heads whose outputs are summed, o_i = sum_h sum_j A^h_ij V_h z_j,
with A^h = softmax / length-normalised (or plain) ReLU / unnormalised sigmoid attention of the
scores z_i^T W_Q^T W_K z_j / sqrt(d_head).  The weights come from the registry
(``sinkcheck.variants``): ``kind`` names the legacy operations (softmax, relu_length or relu,
sigmoid: the same floats as before the registry), ``attention`` any registered one, with its extra
(:class:`TriggerModel`).  No residual stream, no MLP: the model is exactly the object of the theorems.

What is measured (on a held-out batch, seeded): the task error (sup over positions, and RMS at
trigger and non-trigger positions), the BOS attention coefficient A_i0 itself at trigger and
non-trigger positions (not its share of the row total, which for a ReLU head that is "off" is a
share of ~0), the total attention mass, and Gu et al.'s Sink_1^0.3 (with proxy scores, i.e. rows
renormalised for the metric only, for the unnormalised kinds).
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from sinkcheck import validate, variants
from sinkcheck.variants import stable
from sinkcheck.core.attention_torch import pick_device
from sinkcheck.construct.trigger_task import CONTENT, sample_batch
from sinkcheck.core import attention_torch as att_t
from sinkcheck.core.limits import check_memory
from sinkcheck.core.metrics import proxy_scores, sink_rate
from sinkcheck.experiments.runs import run_all
from sinkcheck.runtime.tasks import Task


@dataclass
class TriggerRunConfig:
    """Settings of one run; every default is the one the CLI and the report use."""

    kind: str = "softmax"  # softmax | relu | sigmoid
    heads: int = 1  # H; head outputs are summed
    p: int = 4  # content dimension
    T: int = 8  # tokens after BOS
    R: float = 1.0  # content radius
    positional: bool = True  # one-hot positions in the encoding (exact ReLU solutions need them)
    d_head: int = 8  # query/key width per head
    steps: int = 400  # Adam steps
    batch: int = 64  # sequences per step (fresh, seeded)
    lr: float = 0.02  # Adam learning rate
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    init_scale: float = 1.0  # std of every initial weight entry is init_scale / sqrt(d)
    loss_weighting: str = "balanced"  # balanced: trigger positions weigh as much as all others; uniform
    trigger_prob: float = 0.5  # fraction of sequences with a trigger
    relu_normalise: str = "length"  # length | none (ReLU only)
    seed: int = 0
    device: str = "cpu"
    attention: str | None = None  # a registered operation (sinkcheck.variants); None: the legacy ``kind``

    def validated(self) -> "TriggerRunConfig":
        validate.choice("kind", self.kind, att_t.KINDS)
        if self.attention is not None and (variants.get(self.attention) and self.kind != "softmax"):
            raise validate.InvalidInputError(f"kind: must stay 'softmax' (the default) when attention is given "
                                             f"(got {self.kind!r} with attention={self.attention!r})")
        validate.integer_at_least("heads", self.heads, 1)
        validate.integer_at_least("p", self.p, 1)
        validate.integer_at_least("T", self.T, 2)
        validate.positive("R", self.R)
        validate.integer_at_least("d_head", self.d_head, 1)
        validate.integer_at_least("steps", self.steps, 0)
        validate.integer_at_least("batch", self.batch, 1)
        validate.positive("lr", self.lr)
        validate.nonnegative("weight_decay", self.weight_decay)
        validate.positive("init_scale", self.init_scale)
        validate.choice("loss_weighting", self.loss_weighting, ("balanced", "uniform"))
        validate.in_interval("trigger_prob", self.trigger_prob, 0.0, 1.0)
        validate.choice("relu_normalise", self.relu_normalise, ("length", "none"))
        validate.choice("device", self.device, ("cpu", "cuda"))
        return self


def parameter_count(cfg: TriggerRunConfig) -> int:
    """The number of weights of a model: W_Q, W_K (H, d_head, d) and V (H, p, d)."""
    d = cfg.p + 3 + (cfg.T + 1 if cfg.positional else 0)
    return cfg.heads * (2 * cfg.d_head + cfg.p) * d


def memory_bytes(cfg: TriggerRunConfig) -> float:
    """An upper estimate of one run's memory: the parameters with their gradients and Adam's two
    moments, a batch's scores and weights per head (float32, a few copies for autograd), and the
    loss curve (one Python float per step)."""
    acts = cfg.batch * cfg.heads * (cfg.T + 1) * ((cfg.T + 1) + cfg.d_head + cfg.p)
    return 4.0 * (4 * parameter_count(cfg) + 8 * acts) + 32.0 * cfg.steps


def check_memory_of_runs(heads: tuple[int, ...], seeds: int, steps: int) -> None:
    """Refuse a :func:`train_runs` with kept models (``sinkcheck trigger``) that cannot fit in memory: its
    largest run while it trains, plus every model it keeps (one per kind, head count and seed)."""
    cfgs = [TriggerRunConfig(heads=H, steps=steps) for H in heads]
    kept = sum(len(att_t.KINDS) * seeds * (4.0 * parameter_count(c) + 10_000) for c in cfgs)
    check_memory("--heads, --seeds, --steps", max(memory_bytes(c) for c in cfgs) + kept,
                 f"{len(att_t.KINDS) * seeds * len(cfgs)} training runs of {steps} steps with heads {list(heads)}")


LEGACY = {("softmax", "length"): "softmax", ("softmax", "none"): "softmax", ("relu", "length"): "relu_length",
          ("relu", "none"): "relu", ("sigmoid", "length"): "sigmoid", ("sigmoid", "none"): "sigmoid"}
"""The registry operation of each legacy (kind, relu_normalise) (the same floats as the old code paths)."""


def operation(cfg):
    """The registry operation of a run: ``cfg.attention``, or the legacy ``kind``'s (:data:`LEGACY`)."""
    return variants.get(cfg.attention if cfg.attention is not None else LEGACY[(cfg.kind, cfg.relu_normalise)])


def weights_function(op):
    """The op's torch path; a torch module is copied, so each model trains its own parameters."""
    return copy.deepcopy(op.torch_weights) if isinstance(op.torch_weights, torch.nn.Module) else op.torch_weights


class TriggerModel(torch.nn.Module):
    """H heads of one operation; parameters W_Q, W_K (H, d_head, d) and V (H, p, d), and the op's extra:
    "logit" a logit s_h per head (``s``, init 0), "key" a key k_s per head in the query space with
    value 0 (``k_s``, init 0), "token" a learned vector z_s before Z, a key and a value of every head
    (``z_s``, init 0), "gate_head" / "gate_elem" the output of head h times sigmoid(z_i W_g^h), one
    gate or one per output coordinate (``W_g``, drawn like the other weights)."""

    def __init__(self, cfg: TriggerRunConfig, d: int, generator: torch.Generator):
        super().__init__()
        self.cfg = cfg
        std = cfg.init_scale / math.sqrt(d)
        shape_qk = (cfg.heads, cfg.d_head, d)
        self.W_Q = torch.nn.Parameter(torch.randn(shape_qk, generator=generator) * std)
        self.W_K = torch.nn.Parameter(torch.randn(shape_qk, generator=generator) * std)
        self.V = torch.nn.Parameter(torch.randn((cfg.heads, cfg.p, d), generator=generator) * std)
        self.op = operation(cfg)
        self.weights = weights_function(self.op)
        extra, H = self.op.extra, cfg.heads
        self.s = torch.nn.Parameter(torch.zeros(H)) if extra == "logit" else None
        self.k_s = torch.nn.Parameter(torch.zeros(H, cfg.d_head)) if extra == "key" else None
        self.z_s = torch.nn.Parameter(torch.zeros(d)) if extra == "token" else None
        gate = {"gate_head": (H, d), "gate_elem": (H, cfg.p, d)}.get(extra)
        self.W_g = None if gate is None else torch.nn.Parameter(torch.randn(gate, generator=generator) * std)

    def parts(self, Z: torch.Tensor) -> dict:
        """Z (B, T+1, d) -> "out" (B, T+1, p), "attn" (H, B, T+1, T+1) the weights on the real keys,
        "slot" (H, B, T+1) the extra column's weight (1 - row sum with a dropped column; the sink
        token's weight) or None, "gate" (H, B, T+1) the gate (mean over coordinates) or None."""
        n = Z.shape[-2]
        mask = att_t.causal_mask(n, device=Z.device)
        Zk = Z
        if self.z_s is not None:  # the sink token: key and value 0 of every row
            Zk = torch.cat([self.z_s.expand(Z.shape[0], 1, -1), Z], dim=1)
            mask = torch.cat([torch.ones(n, 1, dtype=torch.bool, device=Z.device), mask], dim=1)
        scale = 1.0 / math.sqrt(self.cfg.d_head)
        outs, maps, slots, gates = 0.0, [], [], []
        for h in range(self.cfg.heads):
            if self.op.score == "elu1_kernel":  # x_ij = phi(q_i) . phi(k_j)
                S = stable.elu1_features(Z @ self.W_Q[h].T) @ stable.elu1_features(Zk @ self.W_K[h].T).transpose(-2, -1)
            else:
                W = self.W_Q[h].T @ self.W_K[h]  # (d, d) = W_QK
                S = att_t.scores(Z, Zk, W, scale=scale)  # (B, T+1, T+1)
            kw = {}
            if self.s is not None:
                kw["s"] = self.s[h]
            elif self.k_s is not None:
                kw["s"] = (Z @ self.W_Q[h].T) @ self.k_s[h] * scale  # (B, T+1)
            A = self.weights(S, mask, **kw)
            o = att_t.head_output(A, Zk, self.V[h])  # (B, T+1, p)
            if self.z_s is not None:
                slots.append(A[..., 0])
                A = A[..., 1:]
            elif kw or self.op.dropped:
                slots.append((1.0 - A.sum(-1)).clamp_min(0.0))  # rounding below 0 clipped
            if self.W_g is not None:
                g = torch.sigmoid(Z @ (self.W_g[h].T if self.W_g.dim() == 3 else self.W_g[h]))  # (B, T+1) or (B, T+1, p)
                o = o * (g[..., None] if g.dim() == 2 else g)
                gates.append(g if g.dim() == 2 else g.mean(-1))
            outs = outs + o
            maps.append(A)
        stack = lambda xs: torch.stack(xs) if xs else None  # noqa: E731
        return {"out": outs, "attn": torch.stack(maps), "slot": stack(slots), "gate": stack(gates)}

    def forward(self, Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Z (B, T+1, d) -> outputs (B, T+1, p) and attention (H, B, T+1, T+1) (:meth:`parts`)."""
        p = self.parts(Z)
        return p["out"], p["attn"]


def to_numpy_heads(model: TriggerModel) -> list[tuple[np.ndarray, np.ndarray]]:
    """The trained heads as (W, V) pairs for the numpy core with scale 1: W = W_Q^T W_K / sqrt(d_head)."""
    out = []
    for h in range(model.cfg.heads):
        W = (model.W_Q[h].T @ model.W_K[h]).detach().double().cpu().numpy() / math.sqrt(model.cfg.d_head)
        out.append((W, model.V[h].detach().double().cpu().numpy()))
    return out


def _tensors(cfg: TriggerRunConfig, seed: int, B: int):
    batch = sample_batch(seed, B, cfg.T, cfg.p, cfg.R, cfg.trigger_prob, cfg.positional)
    dev = torch.device(cfg.device)
    f = lambda a: torch.tensor(a, dtype=torch.float32, device=dev)  # noqa: E731
    return batch, f(batch.Z), f(batch.Y), torch.tensor(batch.is_trigger, device=dev), \
        torch.tensor(batch.scored & ~batch.is_trigger, device=dev)


def loss_fn(cfg: TriggerRunConfig, O, Y, trig, nontrig) -> torch.Tensor:
    """Squared error; "balanced" averages trigger and non-trigger positions separately and adds."""
    err = ((O - Y) ** 2).sum(-1)
    if cfg.loss_weighting == "uniform":
        return err[trig | nontrig].mean()
    return err[trig].mean() + err[nontrig].mean()


def train(cfg: TriggerRunConfig, progress=None) -> tuple[TriggerModel, list[float]]:
    """Train from a seeded random initialisation; returns the model and the loss curve.

    Args:
        cfg: the run's settings.  progress: an optional callable(step) (e.g. a tqdm update).
    """
    cfg = cfg.validated()
    pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    d = cfg.p + 3 + (cfg.T + 1 if cfg.positional else 0)
    model = TriggerModel(cfg, d, g).to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    curve = []
    with att_t.one_thread(pin=cfg.device == "cpu"):
        for step in range(cfg.steps):
            # 1. a fresh seeded batch; 2. forward; 3. loss; 4. step
            _, Z, Y, trig, nontrig = _tensors(cfg, cfg.seed * 1_000_003 + step, cfg.batch)
            O, _ = model(Z)
            loss = loss_fn(cfg, O, Y, trig, nontrig)
            opt.zero_grad()
            loss.backward()
            opt.step()
            curve.append(loss.item())
            if progress is not None:
                progress(1)
    return model, curve


@torch.no_grad()
def evaluate_model(model: TriggerModel, n: int = 256, seed: int = 10**6) -> dict:
    """Error and attention statistics on a held-out seeded batch (see the module docstring)."""
    cfg = model.cfg
    batch, Z, Y, trig, nontrig = _tensors(cfg, seed + cfg.seed, n)
    O, A = model(Z)
    O, A = O.double().cpu().numpy(), A.double().cpu().numpy()  # A: (H, B, T+1, T+1)
    err = np.linalg.norm(O - batch.Y, axis=-1)
    trig_np, nontrig_np = batch.is_trigger, batch.scored & ~batch.is_trigger
    before = nontrig_np & ((batch.trigger[:, None] < 0) | (np.arange(cfg.T + 1)[None, :] < batch.trigger[:, None]))
    is_content = (batch.types == CONTENT)[None, :, None, :]
    rms_target = float(np.sqrt((np.linalg.norm(batch.Y, axis=-1)[trig_np] ** 2).mean()))
    out = {
        "error_sup": float(err[batch.scored].max()),
        "error_rms_trigger": float(np.sqrt((err[trig_np] ** 2).mean())),
        "error_rms_nontrigger": float(np.sqrt((err[nontrig_np] ** 2).mean())),
        "relative_error_trigger": float(np.sqrt((err[trig_np] ** 2).mean())) / rms_target,
        "bos_nontrigger": float(A[..., 0][:, nontrig_np].mean()),
        "bos_nontrigger_before": float(A[..., 0][:, before].mean()),
        "bos_trigger": float(A[..., 0][:, trig_np].mean()),
        "content_nontrigger": float((A * is_content).sum(-1)[:, nontrig_np].mean()),
        "mass_nontrigger": float(A.sum(-1)[:, nontrig_np].mean()),
        # maps per sequence (B, L = 1, H, T+1, T+1), Gu et al.'s pooling
        "sink_rate": sink_rate(np.moveaxis(proxy_scores(A) if cfg.kind != "softmax" else A, 1, 0)[:, None], k=0),
    }
    out["bos_nontrigger_per_head"] = [float(A[h, ..., 0][nontrig_np].mean()) for h in range(cfg.heads)]
    return out


def run(cfg: TriggerRunConfig, progress=None, keep_model: bool = False) -> dict:
    """Train and evaluate one configuration; returns the settings, the final loss and the metrics
    (and the trained model under "model" when ``keep_model``)."""
    model, curve = train(cfg, progress)
    config = {k: v for k, v in asdict(model.cfg).items() if k != "attention" or v is not None}
    out = {"config": config, "final_loss": curve[-1] if curve else float("nan"), **evaluate_model(model)}
    if keep_model:
        out["model"] = model
    return out


SUMMARY_COLUMNS = ["kind", "heads", "seeds", "bos_nontrigger", "bos_nontrigger_min", "bos_nontrigger_max",
                   "bos_trigger", "mass_nontrigger", "error_sup", "relative_error_trigger",
                   "error_rms_nontrigger", "sink_rate"]
"""Columns of :func:`summarise` (means over seeds unless the name says min / max)."""


def _train_task(kind: str, params: dict, seed: int, device: str, progress=None, keep_model: bool = False) -> dict:
    """One engine task: :func:`run` of ``TriggerRunConfig(seed=seed, **params)`` (its device is one of
    ``params``, so the engine's is not used)."""
    return run(TriggerRunConfig(seed=seed, **params), progress, keep_model=keep_model)


def train_runs(kinds=att_t.KINDS, heads=(1, 2), seeds=(0, 1, 2), progress=None, keep_models: bool = False,
               **overrides) -> list[dict]:
    """Train every (kind, heads, seed) with the default :class:`TriggerRunConfig` plus ``overrides``,
    in that order (``sinkcheck trigger``, the report's trigger.training and :func:`ablations`)."""
    tasks = [Task("train trigger", {"kind": kind, "heads": H, **overrides}, seed)
             for kind in kinds for H in heads for seed in seeds]
    return run_all(tasks, functools.partial(_train_task, progress=progress, keep_model=keep_models))


def records(runs: list[dict]) -> list[dict]:
    """The runs without their models (for JSON)."""
    return [{k: v for k, v in r.items() if k != "model"} for r in runs]


def summarise(runs: list[dict]) -> list[list]:
    """One row per (kind, heads): means over seeds, with the min and max BOS coefficient."""
    rows, groups = [], {}
    for r in runs:
        groups.setdefault((r["config"]["kind"], r["config"]["heads"]), []).append(r)
    for (kind, H), rs in groups.items():
        mean = lambda k: float(np.mean([r[k] for r in rs]))  # noqa: E731
        bos = [r["bos_nontrigger"] for r in rs]
        rows.append([kind, H, len(rs), mean("bos_nontrigger"), min(bos), max(bos), mean("bos_trigger"),
                     mean("mass_nontrigger"), mean("error_sup"), mean("relative_error_trigger"),
                     mean("error_rms_nontrigger"), mean("sink_rate")])
    return rows


def summary_json(runs: list[dict]) -> dict:
    """{kind: {heads: {"bos": mean BOS coefficient at non-trigger positions, "error": mean sup error,
    ...}}}, the JSON the CLI writes next to the per-run records."""
    out: dict = {}
    for row in summarise(runs):
        rec = dict(zip(SUMMARY_COLUMNS, row))
        out.setdefault(rec["kind"], {})[str(rec["heads"])] = {
            "bos": rec["bos_nontrigger"], "error": rec["error_sup"], "bos_trigger": rec["bos_trigger"],
            "relative_error_trigger": rec["relative_error_trigger"], "sink_rate": rec["sink_rate"],
            "seeds": rec["seeds"]}
    return out


ABLATIONS = {
    "default": {},
    "uniform loss": {"loss_weighting": "uniform"},
    "init x0.1": {"init_scale": 0.1},
    "init x3": {"init_scale": 3.0},
    "weight decay 0.1": {"weight_decay": 0.1},
    "lr 0.005": {"lr": 0.005},
    "no positions": {"positional": False},
}
"""Settings varied around the defaults (one at a time) by :func:`ablations`."""


def ablations(seeds=(0, 1, 2), steps: int = 300, heads: int = 1, progress=None) -> list[list]:
    """One row per (setting, kind): BOS coefficient (mean, min, max over seeds), mean sup error and
    relative trigger error, for the settings of :data:`ABLATIONS`."""
    rows = []
    for name, over in ABLATIONS.items():
        runs = train_runs(heads=(heads,), seeds=seeds, progress=progress, steps=steps, **over)
        for row in summarise(runs):
            rec = dict(zip(SUMMARY_COLUMNS, row))
            rows.append([name, rec["kind"], rec["heads"], rec["bos_nontrigger"], rec["bos_nontrigger_min"],
                         rec["bos_nontrigger_max"], rec["error_sup"], rec["relative_error_trigger"],
                         rec["sink_rate"]])
    return rows


ABLATION_COLUMNS = ["setting", "kind", "heads", "bos_nontrigger", "bos_min", "bos_max", "error_sup",
                    "relative_error_trigger", "sink_rate"]
