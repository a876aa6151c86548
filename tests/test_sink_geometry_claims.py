"""Claims of theory/sink_geometry.py that no earlier test stated (found by mutation testing,
docs/mutation.md)."""

from sinkcheck.theory import sink_geometry as sg


def test_the_symbolic_steps_of_theorems_g_and_c_have_their_report_names():
    # the names appear as evidence keys in the report's certificates
    assert list(sg.symbolic_steps()) == ["G_regrouping", "G_rank_one_score", "G_positive_combination",
                                         "C_cosine_bounds"]
