"""Tables of the trigger task measured on explicit and sampled heads (``sinkcheck trigger``, docs/trigger.md)."""

from __future__ import annotations

import numpy as np

from sinkcheck.core.tables import Table


def constructions_table(T: int = 8, p: int = 3, R: float = 1.0, seed: int = 0) -> Table:
    """Measured sup errors and BOS attention of the explicit heads on a seeded batch + the probes."""
    from sinkcheck.construct import trigger_weights as tw
    from sinkcheck.construct.trigger_task import equal_content_batch, sample_batch

    rows = []
    batch = sample_batch(seed, 256, T, p, R, positional=True)
    probes = equal_content_batch(np.eye(p)[0] * R, T, positional=True)
    nontrig = batch.scored & ~batch.is_trigger
    for eps in (0.1, 0.01, 0.001):
        L = tw.sink_logit(T, R, eps)
        W, V = tw.softmax_sink_head(p, T, L, positional=True)
        err = max(tw.sup_error(b, tw.head_forward(b, W, V)[0]) for b in (batch, probes))
        A = tw.head_forward(batch, W, V)[1]
        rows.append(["softmax sink", eps, L, err, float(A[..., 0][nontrig].min())])
    for norm in ("length", "none"):
        W, V = tw.relu_exact_head(p, T, norm)
        O, A = tw.head_forward(batch, W, V, "relu", norm)
        rows.append([f"ReLU ({norm})", 0.0, float("nan"), tw.sup_error(batch, O), float(A[..., 0].max())])
    return Table(["head", "target eps", "sink logit L", "measured sup error", "BOS attention (min / max)"],
                 rows, title=f"Explicit heads, T={T}, p={p}, R={R}, seed {seed}")


def necessity_table(seed: int = 0, n_random: int = 60, T: int = 5, p: int = 2) -> Table:
    """Theorem 1 margins (measured error minus the least error the bound allows) per head family."""
    from sinkcheck.construct import trigger_weights as tw
    from sinkcheck.evaluate import trigger_necessity as tn

    rng = np.random.default_rng(seed)
    x = np.eye(p)[0]
    fams = {"random (H)": [tn.random_head(rng, p, T) for _ in range(n_random)],
            "random (H_beta)": [tn.random_head(rng, p, T, content_free=True) for _ in range(n_random)],
            "optimised": [tn.optimised_head(seed + k, p, T, 150) for k in range(2)],
            "optimised, BOS penalty": [tn.optimised_head(seed + k, p, T, 150, bos_penalty=2.0) for k in range(2)],
            "tight (delta = 1e-3 eps)": [tw.tight_head(p, T, 1.0, e, 1e-3 * e, True)[:2] for e in (0.05, 0.2)]}
    rows = []
    for name, heads in fams.items():
        pr = [tn.probe(x, T, [h], True) for h in heads]
        rows.append([name, len(pr), min(q.margin for q in pr), min(q.eps for q in pr),
                     max(q.content_mass for q in pr)])
    return Table(["heads", "n", "min margin (>= 0)", "min error", "max content mass"], rows,
                 title=f"Theorem 1 on sampled heads, T={T}, p={p}, ||x||=1, seed {seed}")
