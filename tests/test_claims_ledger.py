"""The claims ledger (sinkcheck.claims): every claim is present, complete, tied to its checks, tests
and docs page, and the quick report gives each claim the verdict the ledger records.

The ids and the paper each comes from are written out here by hand: dropping a claim from the
ledger, or moving it to another paper, fails a test that names it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sinkcheck import ledger
from sinkcheck.claims import CLAIMS, CLAIMS_LIST
from sinkcheck.construct.sinkdiag import hypotheses
from sinkcheck.ledger import PAPERS
from sinkcheck.cli import main
from sinkcheck.theory import sinkdiag_bounds as T
from sinkcheck.report.registry import Certificate, load_checks

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_IDS = {
    "sukenik": ["sukenik.sec6.switch_forward", "sukenik.sec6.switch_converse_values",
                "sukenik.sec6.switch_converse_tokens", "sukenik.prop4_1.representability", "sukenik.prop4_1.sink_cost",
                "sukenik.fig1.pretrained_alignment", "sukenik.sec5.smoothing_derivatives", "sukenik.sec5.monotonicity",
                "sukenik.sec5.cosine_direction", "sukenik.fig8_9.pretrained_smoothing", "sukenik.sec7.cost_identity",
                "sukenik.sec7.constructions", "sukenik.sec7.u_sink_qk", "sukenik.sec7.u_sink", "sukenik.sec7.l_diag_qk",
                "sukenik.sec7.l_diag", "sukenik.sec7.u_diag_qk", "sukenik.sec7.u_diag", "sukenik.sec7.l_sink_qk",
                "sukenik.sec7.l_sink", "sukenik.sec7.sinks_cheaper", "sukenik.sec7.weight_decay_selects",
                "sukenik.variants.off_switch"],
    "ranmilo": ["ranmilo.necessity.single_head", "ranmilo.necessity.multi_head", "ranmilo.construction.softmax_sink",
                "ranmilo.relu.sufficiency", "ranmilo.experiments.softmax_vs_relu", "ranmilo.variants.trigger_without_sink"],
    "gu": ["gu.sink_emergence.softmax", "gu.sink_emergence.relu", "gu.sink_emergence.sigmoid",
           "gu.small_data.no_sink", "gu.open_models.first_token_sink",
           "gu.appc.repeated_token_lemma", "gu.appc.prop1_nope", "gu.appc.prop2_relative", "gu.appc.prop3_alibi",
           "gu.appc.prop4_rope",
           "gu.inputs.random_tokens", "gu.inputs.repeated_tokens",
           "gu.sec3_1.first_token_key_bias", "gu.table3.positional_encoding", "gu.table3.post_norm",
           "gu.table4.attention_biases", "gu.table5.value_bias_norm", "gu.sec4.emergence_steps",
           "gu.sec4.learning_rate", "gu.sec4.weight_decay",
           "gu.table6.softmax", "gu.table6.sigmoid", "gu.table6.sigmoid_sum", "gu.table6.elu1", "gu.table6.linear_elu1",
           "gu.table6.other_kernels", "gu.table4.key_bias_operation"],
    "zuhri": ["zuhri.softpick.no_sink"],
    "qiu": ["qiu.gate.first_token_attention"],
    "gptoss": ["gptoss.sink_logit.no_attention"],
}
EMPIRICAL = {"sukenik.fig1.pretrained_alignment", "sukenik.fig8_9.pretrained_smoothing",
             "sukenik.sec7.weight_decay_selects", "ranmilo.experiments.softmax_vs_relu", "gu.sink_emergence.softmax",
             "gu.sink_emergence.relu", "gu.sink_emergence.sigmoid", "gu.small_data.no_sink",
             "gu.open_models.first_token_sink",
             "gu.inputs.random_tokens", "gu.inputs.repeated_tokens",
             "gu.sec3_1.first_token_key_bias", "gu.table3.positional_encoding", "gu.table3.post_norm",
             "gu.table4.attention_biases", "gu.table5.value_bias_norm", "gu.sec4.emergence_steps",
             "gu.sec4.learning_rate", "gu.sec4.weight_decay",
             "gu.table6.softmax", "gu.table6.sigmoid", "gu.table6.sigmoid_sum", "gu.table6.elu1", "gu.table6.linear_elu1",
             "gu.table6.other_kernels", "gu.table4.key_bias_operation", "zuhri.softpick.no_sink",
             "qiu.gate.first_token_attention", "gptoss.sink_logit.no_attention"}
"""The claims about trained or pretrained models, written out by hand."""
ALL_IDS = [i for ids in EXPECTED_IDS.values() for i in ids]
JSON_KEYS = {"id", "kind", "statement_source", "paper", "where", "paper_statement", "checked_statement", "hypothesis",
             "expected_verdict", "setting", "paper_setting", "docs"}


@pytest.mark.parametrize("claim_id", ALL_IDS)
def test_every_claim_of_the_papers_is_in_the_ledger_under_its_paper(claim_id):
    paper = next(p for p, ids in EXPECTED_IDS.items() if claim_id in ids)
    assert claim_id in CLAIMS, f"{claim_id} was dropped from the ledger"
    assert CLAIMS[claim_id].paper == paper


def test_the_ledger_has_no_claim_this_file_does_not_name_and_lists_papers_in_order():
    assert [c.id for c in CLAIMS_LIST] == ALL_IDS  # grouped by paper, in the order each paper makes them
    assert list(PAPERS) == list(EXPECTED_IDS)


@pytest.mark.parametrize("claim", CLAIMS_LIST, ids=lambda c: c.id)
def test_every_record_is_complete(claim):
    assert claim.kind == ("empirical" if claim.id in EMPIRICAL else "theorem")
    assert claim.id.startswith(claim.paper + ".") and claim.expected_verdict in ledger.KIND_VERDICTS[claim.kind]
    assert claim.statement_source in ("paper", "reconstructed", "extension")
    assert bool(claim.setting and claim.paper_setting) == (claim.kind == "empirical")
    assert claim.paper_statement and claim.checked_statement and claim.where and claim.checks
    # an added hypothesis exactly when the verdict says one is needed
    assert (claim.hypothesis is not None) == (claim.expected_verdict == "holds_with_hypothesis"), claim.id
    assert all((ROOT / t).is_file() for t in claim.tests), [t for t in claim.tests if not (ROOT / t).is_file()]
    page = ROOT / "docs" / f"{claim.docs}.md"
    assert page.is_file() and f"({claim.id})=" in page.read_text(), f"{claim.id}: no MyST label on docs/{claim.docs}.md"


@pytest.mark.parametrize("change, fragment", [
    ({"expected_verdict": "reproduced"}, "a theorem's verdict is one of"),
    ({"kind": "empirical"}, "a empirical's verdict is one of"),
    ({"kind": "lemma"}, "kind must be one of"),
    ({"statement_source": "ours"}, "statement_source must be one of"),
    ({"setting": "a toy run", "paper_setting": "a 60M model"}, "an empirical claim (and only one)"),
])
def test_a_record_outside_its_kinds_vocabulary_is_refused(change, fragment):
    import dataclasses

    with pytest.raises(ValueError, match=re.escape(fragment)):
        dataclasses.replace(CLAIMS["sukenik.sec7.cost_identity"], **change)


def test_an_empirical_record_without_the_papers_setting_is_refused():
    import dataclasses

    with pytest.raises(ValueError, match="an empirical claim"):
        dataclasses.replace(CLAIMS["gu.sink_emergence.softmax"], paper_setting=None)


def test_a_check_may_only_give_its_claim_kinds_verdicts():
    with pytest.raises(ValueError, match=r"decides a empirical claim, whose verdicts are reproduced"):
        Certificate(check="empirical.dormant_softmax", verdict="holds")
    with pytest.raises(ValueError, match=r"decides a theorem claim, whose verdicts are holds"):
        Certificate(check="cost.identity", verdict="reproduced")


def test_every_report_check_decides_exactly_one_claim():
    checks = load_checks()
    owners = {name: [c.id for c in CLAIMS_LIST if name in c.checks] for name in checks}
    assert {n: o for n, o in owners.items() if len(o) != 1} == {}
    assert sorted(n for c in CLAIMS_LIST for n in c.checks) == sorted(checks)


def test_the_hypothesis_predicates_use_the_thresholds_the_theory_derives():
    assert math.isclose(hypotheses.LAM_DIAG, float(T.diag_upper_lambda_threshold()), rel_tol=1e-12)
    assert hypotheses.C_MAX_FALLBACK == T.C_MAX_FALLBACK
    assert f"lam >= {hypotheses.LAM_DIAG:.4f}" in CLAIMS["sukenik.sec7.u_diag_qk"].hypothesis
    kw = {"lam": 1.0, "C": 15, "centred": False, "equal_norms": True}
    P = hypotheses.PREDICATES
    assert P["sukenik.sec7.u_sink_qk"](kw, False, {}) and not P["sukenik.sec7.u_sink_qk"]({**kw, "lam": 0.99}, False, {})
    assert P["sukenik.sec7.l_sink_qk"](kw, True, {}) and not P["sukenik.sec7.l_sink_qk"]({**kw, "C": 16}, True, {})
    assert P["sukenik.sec7.u_diag_qk"]({**kw, "lam": 0.5}, True, {"Delta_diag": 0.1}) and not \
        P["sukenik.sec7.u_diag_qk"]({**kw, "lam": 0.49}, True, {"Delta_diag": 0.1})


def test_every_hypothesis_predicate_belongs_to_a_ledger_claim_that_adds_a_hypothesis():
    assert all(CLAIMS[cid].hypothesis for cid in hypotheses.PREDICATES)
    assert hypotheses.predicate_of_check("sinkdiag.sink_lower") is hypotheses.l_sink_hypothesis


def test_sinkcheck_claims_lists_every_record_with_every_key_in_each_format():
    import json

    data = json.loads(CliRunner().invoke(main, ["claims", "--format", "json"]).output)
    assert [d["id"] for d in data] == ALL_IDS and all(JSON_KEYS <= set(d) for d in data)
    for fmt in ("markdown", "csv", "latex"):
        out = CliRunner().invoke(main, ["claims", "--format", fmt])
        assert out.exit_code == 0 and all(i.replace("_", r"\_") in out.output or i in out.output for i in ALL_IDS)


# ---- the verdicts, pinned -------------------------------------------------------------------------
def verdict_mismatches(certs: list[Certificate]) -> list[str]:
    """One line per claim whose report verdict differs from its ledger verdict (skipped: an extra missing)."""
    from sinkcheck.report.runner import claim_rows

    return [f"{r.id}: the report says {r.verdict!r}, the ledger {r.record.expected_verdict!r}"
            for r in claim_rows(certs) if r.verdict not in (r.record.expected_verdict, "skipped")]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    from sinkcheck.report.runner import run_report

    return run_report(tmp_path_factory.mktemp("report") / "r", progress=False)


@pytest.mark.torch
@pytest.mark.parametrize("claim_id", ALL_IDS)
def test_the_quick_report_gives_each_claim_its_ledger_verdict(quick_report, claim_id):
    mine = [c for c in quick_report if c.claim == claim_id]
    assert mine, f"{claim_id}: no certificate of the report names it"
    assert verdict_mismatches(mine) == []


def test_a_flipped_verdict_in_any_one_check_is_caught_and_names_its_claim(monkeypatch, tmp_path):
    from sinkcheck.report import registry
    from sinkcheck.report.runner import run_report

    flipped = {"holds": "fails", "holds_with_hypothesis": "holds", "fails": "holds", "undecided": "holds"}
    for name, claim_id in (("cost.identity", "sukenik.sec7.cost_identity"),
                           ("smoothing.monotonicity", "sukenik.sec5.monotonicity")):
        real = registry.load_checks()[name]

        def planted(ctx, real=real):
            cert = real(ctx)
            cert.verdict = flipped[cert.verdict]
            return cert
        monkeypatch.setitem(registry.CHECKS, name, planted)
        certs = run_report(tmp_path / name, only=(name,), progress=False)
        assert [m.split(":")[0] for m in verdict_mismatches(certs)] == [claim_id]


def test_the_readme_findings_table_is_the_ledgers():
    from sinkcheck.cli.claims import findings_table

    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- findings: sinkcheck claims --format markdown --brief -->\n", "<!-- end of findings -->"
    assert begin in readme and end in readme
    assert readme[readme.index(begin) + len(begin):readme.index(end)].strip() == \
        __import__("sinkcheck.core.tables", fromlist=["render"]).render(findings_table(), "markdown").strip()


def test_the_readme_notes_name_only_ledger_claims_each_with_its_verdict():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- end of findings -->"):readme.index("## Docs and benchmark")]
    named = set(re.findall(r"`([a-z0-9_]+\.[a-z0-9_.]+)`", section))
    assert named <= set(CLAIMS), named - set(CLAIMS)
    failing = {c.id for c in CLAIMS_LIST if c.expected_verdict in ledger.FAILING}
    assert failing <= named, f"README notes omit failing claims {sorted(failing - named)}"
    # each named claim's verdict in words follows it, before the next claim id or the end of its bullet
    mentions = list(re.finditer(r"`([a-z0-9_]+\.[a-z0-9_.]+)`", section))
    for m, nxt in zip(mentions, mentions[1:] + [None]):
        span = " ".join(section[m.end():nxt.start() if nxt else len(section)].split("\n- ")[0].split())
        word = ledger.VERDICT_TEXT[CLAIMS[m[1]].expected_verdict].replace(" as checked", "")
        assert word in span, f"README: {m[1]} should read '{word}' (ledger verdict {CLAIMS[m[1]].expected_verdict})"
