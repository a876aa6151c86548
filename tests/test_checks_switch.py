"""The report's checks of docs/switch.md hold in the quick profile and see both outcomes."""

import pytest

from sinkcheck.verify.checks.registry import Context, load_checks

NAMES = ["switch.forward", "switch.converse_values", "switch.converse_tokens", "sink.representability", "sink.cost"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    checks = load_checks()
    ctx = Context(seed=0, profile="quick", out_dir=tmp_path_factory.mktemp("rep"), progress=False)
    return {name: checks[name](ctx) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_switch_and_sink_checks_hold_in_the_quick_profile(certs, name):
    assert certs[name].verdict == "holds", certs[name].evidence


def test_representability_check_meets_feasible_and_infeasible_instances_and_never_disagrees(certs):
    ev = certs["sink.representability"].evidence
    assert ev["feasible"] > 10 and ev["infeasible"] > 10 and ev["disagreements_lp_vs_condition"] == 0


def test_tokens_check_records_the_counterexample_to_the_value_only_bound(certs):
    c = certs["switch.converse_tokens"]
    assert c.counterexample["deficit"] > 0.1 and c.evidence["largest_deficit_of_construction"] <= c.evidence["g"]
