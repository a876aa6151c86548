"""Per-head smoothing quantities of docs/smoothing.md for the pretrained-model run (Figures 8-9).

A thin adapter over :func:`sinkcheck.evaluate.smoothing_heads.analyse_head` (the one place where the
quantities are computed): it returns the flat dict of numbers that the pretrained tables use.
Model (section 4, row convention): tokens Z (T, d), residual X (T, d), output
Y(A) = X + A Z W_OV^T; the predictions are beta tr(BW) > 0 ("dense smooths") and
beta tr(BW) + tr(B W^T W) < 0 ("dense sharpens").
"""

from __future__ import annotations

import numpy as np

from sinkcheck.theory.smoothing import paper_condition
from sinkcheck.evaluate.smoothing_heads import PREDICTIONS, analyse_head


def head_table_row(X: np.ndarray, Z: np.ndarray, A: np.ndarray, W_OV: np.ndarray, causal: bool = False) -> dict:
    """The section 4 quantities and the measured cosine changes of one head, as a flat dict.

    Keys: beta, tr_BW, tr_BWtW, beta_tr_BW, sharpen (= beta tr(BW) + tr(B W^T W)),
    dcos_attn_vs_sparse (Figure 8: A against self-attention) and dcos_uniform_vs_attn (Figure 9:
    uniform attention against A).
    """
    h = analyse_head(X, Z, A, W_OV, causal=causal)
    return {
        "beta": h.beta,
        "tr_BW": h.beta_trBW / h.beta if h.beta else float("nan"),
        "tr_BWtW": h.trBWtW,
        "beta_tr_BW": h.beta_trBW,
        "sharpen": h.beta_trBW + h.trBWtW,
        "dcos_attn_vs_sparse": h.measured_delta_cos_identity,
        "dcos_uniform_vs_attn": h.measured_delta_cos,
    }


def head_class(beta_tr_BW: float, sharpen: float) -> str:
    """The paper's condition (:func:`sinkcheck.theory.smoothing.paper_condition`, the one classifier)
    as a head's class: "smooths", "sharpens" or "neither" (:data:`~sinkcheck.evaluate.smoothing_heads.PREDICTIONS`)."""
    return PREDICTIONS[paper_condition(beta_tr_BW, sharpen - beta_tr_BW)][0]
