"""Shared hypothesis strategies for the test-suite (finite float64 arrays of bounded size)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def matrices(min_side=1, max_side=6, elements=finite):
    """Rectangular float64 matrices with sides in [min_side, max_side]."""
    shapes = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))
    return shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=elements))


@st.composite
def low_rank_matrices(draw, max_side=6):
    """Matrices of any rank from 0 to full, rectangular included."""
    d_q, d_k = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    rank = draw(st.integers(0, min(d_q, d_k)))
    A = draw(hnp.arrays(np.float64, (d_q, max(rank, 1)), elements=finite))
    B = draw(hnp.arrays(np.float64, (max(rank, 1), d_k), elements=finite))
    return A @ B if rank > 0 else np.zeros((d_q, d_k))
