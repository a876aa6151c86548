"""The sink-vs-diagonal choice as a training problem (docs/sink_vs_diagonal.md, docs/empirical.md).

One softmax head with factors W_Q, W_K (d x d each, W = W_Q^T W_K, scores z^T W z' / sqrt(d)) is
trained from a random initialisation on an instance of the section 2 setting
(:func:`sinkcheck.construct.sinkdiag.instance.sample_instance`).  The loss
says *what* must happen, not *how*, so the weight decay picks the pattern:

- sequences: BOS first, then a random order of the copy queries and of the dormant tokens; each
  group is dropped with probability ``p_drop`` (so copy queries also meet their group absent);
  attention is causal;
- a dormant token must switch off, on BOS *or* on itself, its choice: loss
  min(-log A_xb, -log A_xx);
- a copy query that sees tokens of its group: each of them must beat every key outside the group,
  loss mean_j softplus(logsumexp_{y outside} s(c, y) - s(c, d_j)) (the "copy" constraints);
  a copy query that sees none: min(-log A_cb, -log A_cc) (fallback, BOS or itself);
- objective = mean loss + wd (||W_Q||_F^2 + ||W_K||_F^2), Adam.

After training we read the pattern from the scores: a dormant token "sinks" when s(x, b) > s(x, x).
Each query may choose on its own, so the result can be "mixed" (see :func:`read_pattern`).  The
trained W is rescaled by kappa / m (m = its smallest score gap on the constraints of the pattern
it realises; cost is linear in the scale), so its cost is comparable with L, OPT and U.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from sinkcheck.core.attention_torch import one_thread
from sinkcheck.core.figures import pyplot, save
from sinkcheck import validate
from sinkcheck.construct.sinkdiag.instance import check_arguments, sample_instance
from sinkcheck.core.limits import check_memory
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_eval import evaluate
from sinkcheck.evaluate.sinkdiag_result import PATTERNS


def _roles(inst):
    C, N = inst.C, inst.N
    role = np.array([0] + [1] * C + [2] * N)  # 0 BOS, 1 copy query, 2 dormant
    grp = np.concatenate([[-1], np.arange(C), inst.group])  # group of copy queries and dormant tokens
    return role, grp


def _batch(inst, rng: np.random.Generator, B: int, p_drop: float):
    """(B, K) token orders (BOS first) and (B, K) presence flags."""
    K = 1 + inst.C + inst.N
    role, grp = _roles(inst)
    order = np.stack([np.concatenate([[0], 1 + rng.permutation(K - 1)]) for _ in range(B)])
    dropped = rng.random((B, inst.C)) < p_drop
    present = np.ones((B, K), dtype=bool)
    for b in range(B):
        tok = order[b]
        present[b] = ~((role[tok] == 2) & dropped[b][np.maximum(grp[tok], 0)])
    return order, present


def _loss(M: torch.Tensor, order: np.ndarray, present: np.ndarray, role: np.ndarray, grp: np.ndarray) -> torch.Tensor:
    B, K = order.shape
    o = torch.as_tensor(order)
    S = M[o[:, :, None], o[:, None, :]]  # (B, K, K) scores in sequence order
    vis = np.tril(np.ones((K, K), dtype=bool))[None] & present[:, None, :]
    vis_t = torch.as_tensor(vis)
    logA = torch.log_softmax(S.masked_fill(~vis_t, float("-inf")), dim=-1)
    r, g = role[order], grp[order]  # (B, K)
    group = (g[:, :, None] == g[:, None, :]) & (r[:, None, :] == 2) & (r[:, :, None] == 1) & vis
    has_group = group.any(axis=-1)
    # switch-off (dormant, and copy queries without their group): min(-log A_xb, -log A_xx)
    off = torch.minimum(-logA[:, :, 0], -torch.diagonal(logA, dim1=-2, dim2=-1))  # (B, K)
    # copy with its group visible: each group token j beats all non-group keys O:
    # softplus(logsumexp_O S - S_ij), averaged over j
    outside = torch.as_tensor(vis & ~group)
    lse_O = torch.logsumexp(S.masked_fill(~outside, float("-inf")), dim=-1, keepdim=True)  # (B, K, 1)
    g_t = torch.as_tensor(group)
    copy = (torch.nn.functional.softplus(lse_O - S) * g_t).sum(-1) / g_t.sum(-1).clamp(min=1)
    use_copy = torch.as_tensor((r == 1) & has_group)
    per = torch.where(use_copy, copy, off)
    query = torch.as_tensor(present & (r > 0))
    return per[query].mean()


@one_thread()
def train_head(inst, wd: float = 1e-3, steps: int = 1500, lr: float = 0.02, batch: int = 16, p_drop: float = 0.3,
               init_scale: float = 0.5, seed: int = 0, progress: bool = False) -> dict:
    """Train (W_Q, W_K) on ``inst``; return the pattern chosen, costs and margins (see module doc)."""
    validate.nonnegative("wd", wd)
    validate.integer_at_least("steps", steps, 1)
    validate.in_interval("p_drop", p_drop, 0.0, 1.0)
    d = inst.dim
    torch.manual_seed(seed)
    WQ = (init_scale / np.sqrt(d) * torch.randn(d, d, dtype=torch.float64)).requires_grad_()
    WK = (init_scale / np.sqrt(d) * torch.randn(d, d, dtype=torch.float64)).requires_grad_()
    Z = torch.as_tensor(inst.tokens())  # (K, d): BOS, copy queries, dormant tokens
    role, grp = _roles(inst)
    opt = torch.optim.Adam([WQ, WK], lr=lr)
    rng = np.random.default_rng([seed, 2])
    for _ in tqdm(range(steps), desc=f"sinkdiag d={d}", disable=not progress, leave=False):
        order, present = _batch(inst, rng, batch, p_drop)
        M = (Z @ WQ.T) @ (Z @ WK.T).T / np.sqrt(d)  # (K, K) scores between all tokens
        loss = _loss(M, order, present, role, grp)
        obj = loss + wd * (WQ.pow(2).sum() + WK.pow(2).sum())
        opt.zero_grad()
        obj.backward()
        opt.step()
    W = (WQ.T @ WK).detach().numpy()
    return read_pattern(inst, W) | {"d": d, "wd": wd, "seed": seed, "loss": float(loss.detach()),
                                    "trained_cost": float(WQ.detach().pow(2).sum() + WK.detach().pow(2).sum())}


def read_pattern(inst, W: np.ndarray) -> dict:
    """The pattern a trained W realises and its cost at margin kappa.

    Each dormant token and each copy query's fallback picks BOS or itself, whichever scores
    higher; "sink" / "diag" when all pick BOS / themselves, else "mixed".  The realised constraint
    set is the union of the chosen rows of both patterns' constraints (copy rows are shared);
    ``rescaled_cost`` = 2 ||W||_* kappa / (smallest score gap on it), None if a gap is <= 0.
    """
    from sinkcheck.construct.sinkdiag.constraints import margin_constraints

    S = inst.tokens() @ W @ inst.tokens().T / np.sqrt(inst.dim)
    C, N = inst.C, inst.N
    dorm = np.arange(1 + C, 1 + C + N)
    copies = np.arange(1, C + 1)
    sink_d = S[dorm, 0] > S[dorm, dorm]
    sink_f = S[copies, 0] > S[copies, copies]
    chose_sink = np.zeros(1 + C + N, dtype=bool)
    chose_sink[dorm], chose_sink[copies] = sink_d, sink_f
    gaps = []
    for pattern, want in (("sink", True), ("diag", False)):
        cons = margin_constraints(inst, pattern)
        keep = (cons.kind == "copy") if pattern == "diag" else np.zeros(len(cons), dtype=bool)
        keep |= (cons.kind != "copy") & (chose_sink[cons.query] == want)
        gaps.append(S[cons.query[keep], cons.target[keep]] - S[cons.query[keep], cons.competitor[keep]])
    gap = np.concatenate(gaps)
    all_b, none_b = sink_d.all() and sink_f.all(), not (sink_d.any() or sink_f.any())
    nuc = float(np.linalg.svd(W, compute_uv=False).sum())
    return {
        "pattern": "sink" if all_b else "diag" if none_b else "mixed",
        "frac_dormant_sink": float(sink_d.mean()), "frac_fallback_sink": float(sink_f.mean()),
        "min_gap": float(gap.min()), "trained_2nuc": 2 * nuc,
        "rescaled_cost": 2 * nuc * inst.kappa / float(gap.min()) if gap.min() > 0 else None,
    }


INSTANCE = {"C": 2, "n": 3, "r_eta": 3, "lam": 1.0, "kappa": 1.0, "delta": 4.0}
"""The instance family of the experiment, with a large nuisance (delta = 4) so that the diagonal pattern is
competitive at small d and the pure patterns' OPT cross between d = 8 and d = 32."""

PROFILES = {
    "quick": {"dims": (8, 16, 32, 64, 128), "seeds": (0, 1), "steps": 800, "wd": 1e-3},
    "full": {"dims": (8, 16, 32, 64, 128, 256, 512), "seeds": tuple(range(5)), "steps": 3000, "wd": 1e-3},
}


def check_dim(name: str, d: int) -> int:
    """``d`` if an instance of dimension d (:data:`INSTANCE`) can be drawn and a d x d head trained
    on it within this machine's memory (the factors, their gradients and Adam's moments)."""
    d = validate.integer_at_least(name, d, 3)
    try:
        check_arguments(d=d, seed=0, **INSTANCE)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None
    check_memory(name, 4.0 * 8 * d * d, f"training a {d} x {d} head")
    return d


def experiment(profile: str = "quick", seeds: tuple[int, ...] | None = None, steps: int | None = None,
               dims: tuple[int, ...] | None = None, progress: bool = True) -> list[dict]:
    """Train on one instance per (d, seed) and put the result next to L, OPT, U of both patterns."""
    validate.choice("profile", profile, tuple(PROFILES))
    p = PROFILES[profile]
    rows = []
    jobs = [(check_dim("dims", d), s) for d in (dims or p["dims"]) for s in (seeds or p["seeds"])]
    for d, s in tqdm(jobs, desc="train sinkdiag", disable=not progress):
        inst = sample_instance(d=d, seed=s, **INSTANCE)
        ev = evaluate(inst)
        res = train_head(inst, wd=p["wd"], steps=steps or p["steps"], seed=s)
        rows.append(res | {f"{k}_{pat}": getattr(ev.pattern(pat), k) for pat in PATTERNS
                           for k in ("lower", "opt", "construction", "upper")})
    return rows


COLUMNS = ["d", "seed", "pattern", "frac_dormant_sink", "frac_fallback_sink", "rescaled_cost", "trained_cost",
           "lower_sink", "opt_sink", "upper_sink", "lower_diag", "opt_diag", "upper_diag"]


def plot(rows: list[dict], path) -> None:
    """Cost vs d: trained (rescaled to margin kappa) against OPT and the bounds of both patterns."""
    plt = pyplot()
    dims = sorted({r["d"] for r in rows})
    mean = lambda key: [np.mean([r[key] for r in rows if r["d"] == d and r[key] is not None] or [np.nan]) for d in dims]  # noqa: E731
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for key, style, label in (("opt_sink", "o-", "OPT sink"), ("opt_diag", "s-", "OPT diag"),
                              ("upper_sink", "o:", "U sink (QK)"), ("lower_diag", "s:", "L diag"),
                              ("rescaled_cost", "k*--", "trained (rescaled)")):
        ax.plot(dims, mean(key), style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("d")
    ax.set_ylabel("QK cost 2||W||_*")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, path, dpi=80)
