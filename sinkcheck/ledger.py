"""The vocabulary of the claims ledger (:mod:`sinkcheck.claims`): the papers, the kinds of claim,
their verdicts, and the record of one claim.

A claim is one statement of one paper. Its record says what kind of claim it is (``kind``), whose
statement is checked (``statement_source``), where the paper makes it, the claim as the paper gives
it (in our words, with its formula), the precise statement that sinkcheck checks, the hypothesis
that had to be added (None: none), the verdict that the quick profile of ``sinkcheck report``
gives, the report checks that decide it, the tests that pin it, and its docs page (each page
labels the claim's statement with the claim id).

- ``kind``: "theorem" (a mathematical statement, decided exactly or by certified numerics) or
  "empirical" (an observation about trained or pretrained models). Each has its own verdicts
  (:data:`KIND_VERDICTS`).
- ``statement_source``: "paper" when the paper's own statement is available to us (``where`` cites
  it), "reconstructed" when only an abstract or a cut-off text is: the checked statement is then
  ours, and the paper's may differ; "extension" when the paper states a special case (softmax
  attention) and the checked statement, ours, extends it (to other attention operations): the
  paper says nothing about the rest.
- Theorem verdicts: "holds" (as checked), "holds_with_hypothesis" (fails as stated on a kept
  counterexample, holds under the named hypothesis), "fails" (with its counterexample),
  "undecided" (neither proved nor refuted: a part of it is not derived).
- Empirical verdicts, always beside ``setting`` (what we ran) and ``paper_setting`` (what the
  paper ran): "reproduced", "not_reproduced", "inconclusive" (the measurement cannot decide: the
  metric is ill-posed there, the run did not reach the regime, too few seeds), "out_of_scope"
  (the paper's setting cannot be run here). A toy run never makes a paper wrong.

A claim's verdict in a report is the most severe verdict among its checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paper:
    key: str
    short: str
    citation: str
    arxiv: str


PAPERS = {p.key: p for p in (
    Paper("sukenik", "Súkeník et al. 2026", "Súkeník, López Amado, Lampert, Mondelli (2026), Sink vs. diagonal patterns as mechanisms "
                     "for attention switch and oversmoothing prevention", "2605.08453"),
    Paper("ranmilo", "Ran-Milo 2026", "Ran-Milo (2026), Attention sinks are provably necessary in softmax transformers: evidence "
                     "from trigger-conditional tasks", "2603.11487"),
    Paper("gu", "Gu et al. 2025", "Gu et al. (ICLR 2025), When attention sink emerges in language models: an empirical view",
          "2410.10781"),
    Paper("zuhri", "Zuhri et al. 2025", "Zuhri, Fuadi, Aji (2025), Softpick: no attention sink, no massive activations "
                   "with rectified softmax", "2504.20966"),
    Paper("qiu", "Qiu et al. 2025", "Qiu et al. (2025), Gated attention for large language models: non-linearity, "
                 "sparsity, and attention-sink-free", "2505.06708"),
    Paper("gptoss", "OpenAI 2025 (gpt-oss)", "OpenAI (2025), gpt-oss-120b & gpt-oss-20b model card", "2508.10925"),
)}
"""The papers, in the order the ledger and the report list them (the three on sinks, then those
proposing the operations that remove or move the sink, whose records are in sinkcheck.claims.variants)."""

KINDS = ("theorem", "empirical")
SOURCES = ("paper", "reconstructed", "extension")
KIND_VERDICTS = {"theorem": ("holds", "holds_with_hypothesis", "fails", "undecided"),
            "empirical": ("reproduced", "not_reproduced", "inconclusive", "out_of_scope")}
"""The verdicts of each kind of claim."""

VERDICT_TEXT = {"holds": "holds as checked", "holds_with_hypothesis": "holds with an added hypothesis",
                "fails": "fails", "undecided": "undecided", "reproduced": "reproduced",
                "not_reproduced": "not reproduced", "inconclusive": "inconclusive", "out_of_scope": "out of scope",
                "skipped": "skipped"}
"""Each verdict in words (the report, ``sinkcheck claims``, the docs)."""

SEVERITY = {"fails": 4, "not_reproduced": 4, "holds_with_hypothesis": 3, "undecided": 2, "inconclusive": 2,
            "out_of_scope": 1, "holds": 1, "reproduced": 1, "skipped": 0}
"""A claim's verdict is the most severe verdict among its checks."""

FAILING = ("fails", "not_reproduced")
"""The verdicts that ``sinkcheck report --strict`` exits 1 on."""

@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    where: str
    paper_statement: str
    checked_statement: str
    hypothesis: str | None
    expected_verdict: str
    checks: tuple[str, ...]
    tests: tuple[str, ...]
    docs: str
    kind: str = field(default="", kw_only=True)
    statement_source: str = field(default="", kw_only=True)
    setting: str | None = field(default=None, kw_only=True)
    paper_setting: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.statement_source not in SOURCES:
            raise ValueError(f"{self.id}: statement_source must be one of {', '.join(SOURCES)} "
                             f"(got {self.statement_source!r})")
        if self.expected_verdict not in KIND_VERDICTS[self.kind]:
            raise ValueError(f"{self.id}: a {self.kind}'s verdict is one of {', '.join(KIND_VERDICTS[self.kind])} "
                             f"(got {self.expected_verdict!r})")
        if (self.kind == "empirical") != bool(self.setting and self.paper_setting):
            raise ValueError(f"{self.id}: an empirical claim (and only one) has a setting and a paper_setting")

    @property
    def anchor(self) -> str:
        """The HTML id Sphinx gives the claim's label on its docs page."""
        return self.id.replace(".", "-").replace("_", "-").lower()

    @property
    def docs_url(self) -> str:
        """The claim's statement in the built docs, relative to the site root."""
        return f"{self.docs}.html#{self.anchor}"

    def card(self) -> str:
        """The record in a few lines of text, for the docs: id, verdict, whose statement, and for an
        empirical claim our setting next to the paper's."""
        lines = [f"{self.id}: {VERDICT_TEXT[self.expected_verdict]} ({self.kind}; statement: {self.statement_source})",
                 f"  checked: {self.checked_statement}"]
        if self.hypothesis:
            lines.append(f"  hypothesis: {self.hypothesis}")
        if self.kind == "empirical":
            lines += [f"  our setting: {self.setting}", f"  the paper's setting: {self.paper_setting}"]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """The record as ``sinkcheck claims --format json`` prints it."""
        return {"id": self.id, "kind": self.kind, "statement_source": self.statement_source,
                "paper": PAPERS[self.paper].citation, "where": self.where,
                "paper_statement": self.paper_statement, "checked_statement": self.checked_statement,
                "hypothesis": self.hypothesis, "expected_verdict": self.expected_verdict,
                "setting": self.setting, "paper_setting": self.paper_setting,
                "docs": self.docs_url, "checks": list(self.checks), "tests": list(self.tests)}
