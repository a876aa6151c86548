"""The report's checks of docs/switch.md hold in the quick profile and see both outcomes."""

import pytest

from sinkcheck.report.registry import Context, load_checks

NAMES = ["switch.forward", "switch.converse_values", "switch.converse_tokens", "sink.representability", "sink.cost"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    checks = load_checks()
    ctx = Context(seed=0, profile="quick", out_dir=tmp_path_factory.mktemp("rep"), progress=False)
    return {name: checks[name](ctx) for name in NAMES}


EXPECTED = {"switch.forward": "holds", "switch.converse_values": "holds_with_hypothesis",
            "switch.converse_tokens": "holds_with_hypothesis", "sink.representability": "holds", "sink.cost": "holds"}
"""The converses hold for every content of the other tokens, the hypothesis their records add."""


@pytest.mark.parametrize("name", NAMES)
def test_switch_and_sink_checks_hold_in_the_quick_profile(certs, name):
    assert certs[name].verdict == EXPECTED[name], certs[name].evidence


@pytest.mark.parametrize("name", ["switch.converse_values", "switch.converse_tokens"])
def test_a_converse_for_one_input_fails_on_values_that_cancel_with_no_sink(certs, name):
    c = certs[name].counterexample
    one = c if name == "switch.converse_values" else c["one_input"]
    assert one["output_norm"] == 0.0 and one["mass_on_zero_values"] < 0.01


def test_representability_check_meets_feasible_and_infeasible_instances_and_never_disagrees(certs):
    ev = certs["sink.representability"].evidence
    assert ev["feasible"] > 10 and ev["infeasible"] > 10 and ev["disagreements_lp_vs_condition"] == 0


def test_tokens_check_records_the_counterexample_to_the_value_only_bound(certs):
    c = certs["switch.converse_tokens"]
    assert c.counterexample["value_only_bound_refuted"]["deficit"] > 0.1
    assert c.evidence["largest_deficit_of_construction"] <= c.evidence["g"]
