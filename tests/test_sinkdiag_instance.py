"""Claims of construct/sinkdiag/instance.py that no earlier test stated (found by mutation testing,
docs/testing.md): the .npz reader's messages name the file, the missing arrays, the cause and the
offending scalar."""

import numpy as np
import pytest
from hypothesis import given, settings

from sinkcheck.construct.sinkdiag.instance import CONSISTENCY_ATOL, SinkDiagInstance, load_instance, sample_instance
from sinkcheck.errors import InvalidInputError
from sinkcheck.strategies import sec7_arguments
from tests.support.profiles import examples


@pytest.fixture(scope="module")
def inst():
    return sample_instance(9, 2, 2, 2, 1.0, 1.0, seed=0)


def _arrays(inst, **override):
    a = dict(b=inst.b, dbar=inst.dbar, c=inst.c, d=inst.d, group=inst.group, eta=inst.eta, lam=inst.lam,
             kappa=inst.kappa)
    a.update(override)
    return {k: v for k, v in a.items() if v is not None}


def test_a_file_without_some_arrays_is_refused_naming_the_file_and_the_arrays(tmp_path, inst):
    np.savez(tmp_path / "part.npz", **_arrays(inst, eta=None, kappa=None))
    with pytest.raises(InvalidInputError, match=r"^instance: file part\.npz lacks arrays \['eta', 'kappa'\]$"):
        load_instance(tmp_path / "part.npz")


def test_a_truncated_file_is_refused_naming_the_file_and_the_cause(tmp_path, inst):
    inst.save(tmp_path / "i.npz")
    raw = (tmp_path / "i.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidInputError, match=r"^instance: cannot read t\.npz as \.npz \(BadZipFile: File is not a zip file\)$"):
        load_instance(tmp_path / "t.npz")


@pytest.mark.parametrize("name", ["lam", "kappa"])
def test_a_non_scalar_lam_or_kappa_is_refused_naming_it_and_its_shape(tmp_path, inst, name):
    np.savez(tmp_path / "v.npz", **_arrays(inst, **{name: np.array([1.0, 2.0])}))
    with pytest.raises(InvalidInputError, match=rf"^{name}: must be a scalar \(got shape \(2,\)\)$"):
        load_instance(tmp_path / "v.npz")


def test_the_summary_of_an_instance_names_each_quantity_with_the_papers_symbol(inst):
    # the summary is what a result (sinkdiag_eval) records about its instance
    p = inst.parameters()
    assert list(p) == ["d", "C", "n", "lam", "kappa", "r_eta", "delta", "Delta_diag", "r_eff", "H1_centred",
                       "H2_equal_norms"]
    assert (p["d"], p["C"], p["n"], p["lam"], p["kappa"], p["r_eta"]) == (9, 2, [2, 2], 1.0, 1.0, 2)
    assert (p["delta"], p["Delta_diag"], p["r_eff"]) == (inst.delta, inst.Delta_diag, inst.r_eff)
    assert (p["H1_centred"], p["H2_equal_norms"]) == (inst.is_centred, inst.has_equal_norms)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_nuisance_variances_along_its_principal_axes_decay_like_j_to_the_minus_decay(seed):
    # centred without H2, the nuisance is a centred Gaussian sample with covariance B diag(j^-decay) B^T
    inst = sample_instance(6, 1, 4000, 3, 1.0, 1.0, seed=seed, centred=True, equal_norms=False, decay=2.0)
    ev = np.sort(np.linalg.eigvalsh(inst.eta.T @ inst.eta))[::-1][:3]
    np.testing.assert_allclose(ev / ev[0], [1.0, 1 / 4, 1 / 9], rtol=0.15)  # sampling error ~ sqrt(2/4000)


@pytest.mark.parametrize("seed", range(5))
def test_without_H1_and_H2_the_nuisance_norms_are_spread_within_delta_over_4_and_delta(seed):
    delta = 0.7
    inst = sample_instance(8, 1, 30, 4, 1.0, 1.0, seed=seed, centred=False, equal_norms=False, delta=delta)
    norms = np.linalg.norm(inst.eta, axis=1)
    assert norms.max() == pytest.approx(delta, rel=1e-12)
    assert norms.min() >= delta / 4 * (1 - 1e-12) and norms.max() / norms.min() > 1.5  # spread, not equal


@pytest.mark.parametrize("seed", [0, 1])
def test_without_H1_and_H2_the_nuisance_norms_are_uniform_on_delta_over_4_to_delta(seed):
    # norms delta u_i / max u, u_i ~ U[1/4, 1]: mean 5/8 delta, up to sampling error 0.005 at n = 2000
    inst = sample_instance(8, 1, 2000, 4, 1.0, 1.0, seed=seed, centred=False, equal_norms=False)
    assert np.linalg.norm(inst.eta, axis=1).mean() == pytest.approx(5 / 8, abs=0.03)


def test_the_sampler_defaults_are_delta_1_and_a_flat_spectrum():
    a = sample_instance(9, 2, 3, 3, 1.0, 1.0, seed=4, centred=False, equal_norms=False)
    b = sample_instance(9, 2, 3, 3, 1.0, 1.0, seed=4, centred=False, equal_norms=False, delta=1.0, decay=0.0)
    assert np.array_equal(a.eta, b.eta) and np.array_equal(a.d, b.d)


def test_a_dimension_below_3_is_refused_naming_d():
    with pytest.raises(InvalidInputError, match=r"^d: must be an integer >= 3 \(got 2\)$"):
        sample_instance(2, 1, 2, 1, 1.0, 1.0, seed=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(C=0), r"^C: must be an integer >= 1 \(got 0\)$"),
    (dict(r_eta=0), r"^r_eta: must be an integer >= 1 \(got 0\)$"),
    (dict(n=[2, 2, 2]), r"^n: must be an int or a list of C = 2 sizes \(got 3 sizes\)$"),
    (dict(n=1), r"^n: must be an integer >= 2 \(got 1\)$"),
    (dict(lam=-1.0), r"^lam: must be finite and > 0 \(got -1.0\)$"),
    (dict(kappa=0.0), r"^kappa: must be finite and > 0 \(got 0.0\)$"),
    (dict(delta=0.0), r"^delta: must be finite and > 0 \(got 0.0\)$"),
    (dict(decay=-1.0), r"^decay: must be finite and >= 0 \(got -1.0\)$"),
    (dict(seed=-1), r"^seed: must be an integer >= 0 \(got -1\)$"),
    (dict(d=6), r"^d: must be >= 2C \+ 1 \+ r_eta = 7 \(got 6\)$"),
    (dict(n=3, r_eta=1), r"^n: H1 and H2 with r_eta = 1 need even group sizes \(got odd n_c\)$"),
])
def test_each_bad_sampler_parameter_is_refused_by_name_with_its_rule(kwargs, message):
    args = dict(d=12, C=2, n=2, r_eta=2, lam=1.0, kappa=1.0, seed=0) | kwargs
    with pytest.raises(InvalidInputError, match=message):
        sample_instance(**args)


@pytest.mark.parametrize("name, bad, message", [
    ("b", lambda i: i.b[None], r"^b: must be a 1-d array \(got 'shape \(1, 9\)'\)$"),
    ("dbar", lambda i: i.dbar[0], r"^dbar: must be a 2-d array \(got 'shape \(9,\)'\)$"),
    ("dbar", lambda i: i.dbar[:, :-1], r"^dbar: must have shape \(C, 9\) \(got shape \(2, 8\)\)$"),
    ("c", lambda i: i.c[:1], r"^c: must have shape \(2, 9\) \(got 'shape \(1, 9\)'\)$"),
    ("d", lambda i: i.d[0], r"^d: must be a 2-d array \(got 'shape \(9,\)'\)$"),
    ("d", lambda i: i.d[:, :-1], r"^d: must have shape \(N, 9\) \(got shape \(4, 8\)\)$"),
    ("eta", lambda i: i.eta[:-1], r"^eta: must have shape \(4, 9\) \(got 'shape \(3, 9\)'\)$"),
], ids=["b 2-d", "dbar 1-d", "dbar width", "c rows", "d 1-d", "d width", "eta rows"])
def test_an_instance_with_an_array_of_the_wrong_shape_is_refused_naming_it_and_the_shape(inst, name, bad, message):
    # every other array is the valid instance's: the first rule broken is this array's own
    with pytest.raises(InvalidInputError, match=message):
        SinkDiagInstance(**(_arrays(inst) | {name: bad(inst)}))


@pytest.mark.parametrize("name, bad, message", [
    ("group", np.array([0.0, 0.0, 1.0, 1.0]), r"^group: must be an integer array of shape \(4,\) \(got float64 \(4,\)\)$"),
    ("group", np.array([0, 0, 1, 2]), r"^group: entries must lie in 0\.\.1 \(got 0\.\.2\)$"),
    ("group", np.array([0, 0, 0, 1]), r"^group: every group needs n_c >= 2 tokens \(got counts \[3, 1\]\)$"),
    ("group", np.array([0, 0, 0, 0]), r"^group: every group needs n_c >= 2 tokens \(got counts \[4, 0\]\)$"),
    ("lam", -1.0, r"^lam: must be finite and > 0 \(got -1\.0\)$"),
    ("kappa", 0.0, r"^kappa: must be finite and > 0 \(got 0\.0\)$"),
], ids=["group of floats", "group C", "group of one", "empty group", "lam", "kappa"])
def test_an_instance_with_a_bad_grouping_or_scale_is_refused_naming_it_and_the_rule(inst, name, bad, message):
    with pytest.raises(InvalidInputError, match=message):
        SinkDiagInstance(**(_arrays(inst) | {name: bad}))


def _tilted(inst, e):
    """The instance's arrays with e times the unit vector b / |b| added to the nuisance (and to d)."""
    u = inst.b / np.linalg.norm(inst.b)
    eta = inst.eta + e * u
    return _arrays(inst, eta=eta, d=inst.lam * inst.dbar[inst.group] + eta)


@pytest.mark.parametrize("lam, delta", [(0.1, 0.01), (1.0, 100.0), (100.0, 0.01)], ids=["scale 1", "eta", "lam"])
def test_nuisance_inside_S_is_tolerated_up_to_1e_minus_8_times_max_of_1_eta_and_lam(lam, delta):
    # the orthogonality check is relative: scale = max(1, max |eta_ij|, lam)
    inst = sample_instance(9, 2, 2, 2, lam, 1.0, seed=0, delta=delta)
    scale = max(1.0, np.abs(inst.eta).max(), lam)
    SinkDiagInstance(**_tilted(inst, 0.5 * CONSISTENCY_ATOL * scale))
    with pytest.raises(InvalidInputError, match=r"^eta: must be orthogonal to S = span\(b, dbar, c\)$"):
        SinkDiagInstance(**_tilted(inst, 1.5 * CONSISTENCY_ATOL * scale))


@pytest.mark.parametrize("factor", [1 + 1e-6, 1 + 1e-8])
def test_a_basis_of_S_off_norm_sqrt_d_by_more_than_1e_minus_8_is_refused(inst, factor):
    # tolerance 1e-8 on U^T U = I, as documented (numpy's default rtol 1e-5 let both through)
    b = inst.b * factor
    with pytest.raises(InvalidInputError, match=r"^b, dbar, c: must be orthogonal with norm sqrt\(d\) \(U has orthonormal columns\)$"):
        SinkDiagInstance(**_arrays(inst, b=b))


def test_a_basis_of_S_that_is_not_orthogonal_is_refused_with_the_rule(inst):
    dbar = inst.dbar.copy()
    dbar[0] = dbar[0] + 0.1 * inst.b  # no longer orthogonal to b
    with pytest.raises(InvalidInputError,
                       match=r"^b, dbar, c: must be orthogonal with norm sqrt\(d\) \(U has orthonormal columns\)$"):
        SinkDiagInstance(**_arrays(inst, dbar=dbar, d=inst.lam * dbar[inst.group] + inst.eta))


@pytest.mark.parametrize("lam", [1.0, 100.0])
def test_d_may_differ_from_lam_dbar_plus_eta_by_1e_minus_8_times_scale_times_sqrt_d(lam):
    # scale = max(1, max |eta|, lam); the tolerance grows like sqrt(d), the norm of each embedding
    inst = sample_instance(9, 2, 2, 2, lam, 1.0, seed=0)
    tol = CONSISTENCY_ATOL * max(1.0, np.abs(inst.eta).max(), lam) * np.sqrt(9)
    u = inst.b / np.linalg.norm(inst.b)
    SinkDiagInstance(**_arrays(inst, d=inst.d + 0.5 * tol * u / np.abs(u).max()))
    with pytest.raises(InvalidInputError, match=r"^d: must equal lam \* dbar\[group\] \+ eta$"):
        SinkDiagInstance(**_arrays(inst, d=inst.d + 1.5 * tol * u / np.abs(u).max()))


def test_an_instance_given_as_lists_stores_float_arrays_int64_groups_and_float_scales(inst):
    arrays = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in _arrays(inst).items()}
    arrays["group"] = np.asarray(arrays["group"], dtype=np.int32)
    arrays["lam"], arrays["kappa"] = 1, np.float32(1.0)  # the fixture's lam = kappa = 1
    J = SinkDiagInstance(**arrays)
    for name in ("b", "dbar", "c", "d", "eta"):
        value = getattr(J, name)
        assert isinstance(value, np.ndarray) and value.dtype == np.float64, name
        assert np.array_equal(value, getattr(inst, name)), name
    assert J.group.dtype == np.int64 and np.array_equal(J.group, inst.group)
    assert type(J.lam) is float and type(J.kappa) is float and J.lam == J.kappa == 1.0


# ---- r_eff without a d x d matrix ---------------------------------------------------------------
@settings(max_examples=examples(20), deadline=None)
@given(sec7_arguments())
def test_r_eff_is_the_trace_over_the_operator_norm_of_Sigma_D(args):
    inst = sample_instance(**args[0])
    ev = np.linalg.eigvalsh(inst.Sigma_D)  # the d x d definition, independently
    assert inst.r_eff == pytest.approx(ev.sum() / ev[-1], rel=1e-9)


def test_r_eff_forms_no_d_by_d_matrix_and_is_the_stable_rank_of_the_differences(monkeypatch):
    inst = sample_instance(d=4096, C=2, n=3, r_eta=3, lam=1.0, kappa=1.0, seed=0)
    # independently: r_eff(D^T D / P) = ||D||_F^2 / ||D||_2^2, from the singular values of D (P x d)
    groups = [np.flatnonzero(inst.group == c) for c in range(inst.C)]
    D = np.array([inst.eta[i] - inst.eta[j] for g in groups for a, i in enumerate(g) for j in g[a + 1:]])
    s = np.linalg.svd(D, compute_uv=False)
    expected = float((s**2).sum() / s[0] ** 2)
    real = np.linalg.eigvalsh

    def small_only(M, *a, **k):
        assert max(np.shape(M)) < 64, f"eigvalsh of a {np.shape(M)} matrix"
        return real(M, *a, **k)
    monkeypatch.setattr(np.linalg, "eigvalsh", small_only)
    assert inst.r_eff == pytest.approx(expected, rel=1e-9)
