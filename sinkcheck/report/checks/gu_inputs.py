"""Report checks of Gu et al.'s Table 1 input protocol (docs/gu_inputs.md): Sink_first on natural,
random and repeated inputs, on the shipped MiniLM, random-weight LLaMA (RoPE), BLOOM (ALiBi) and
GPT-2 (learned PE) decoders, and three decoders with a planted first-token sink.

No trained autoregressive LM runs here, so both records are "out_of_scope": the measurements are
reported. The constructions must behave as built and as Appendix C.1's lemma says (the lone-first-row
sink on a RoPE model, which needs no marker, sinks on bare random tokens and not on a bare repeated
token; a sink on p_1 survives both); when they do not, the run is broken and the verdict is
"inconclusive" (:func:`constructions_agree`).
"""

from __future__ import annotations

from sinkcheck import profiles
from sinkcheck.report.registry import Certificate, Context, check

METRIC = ("Gu et al.'s Sink_first^0.3: the first token's importance per sequence, layer and head, thresholded "
          "(> 0.3), then averaged; the encoder importance (mean over all queries) for MiniLM")


def _rows(ctx: Context) -> tuple[dict, dict]:
    from sinkcheck.experiments.pretrained_report import table1_rows, table1_table

    size = profiles.get(ctx.profile)
    rows = table1_rows(size.gu_inputs_sequences, seed=ctx.seed, n_sentences=size.pretrained_sentences,
                       device=ctx.device)
    params = {"sequences": size.gu_inputs_sequences, "T": 64, "seed": ctx.seed, "metric": METRIC,
              "natural_sentences": size.pretrained_sentences or "all shipped"}
    return {r["model"]: r for r in rows}, {"params": params, "table": table1_table(rows)}


def _shared(ctx: Context):
    from sinkcheck.experiments.pretrained import missing_extra

    if (reason := missing_extra()):
        return None, reason
    return ctx.shared("gu_inputs.table1", _rows), None


def constructions_agree(rows: dict, kind: str) -> dict:
    """What must hold of the constructions on ``kind`` inputs, each True when the run agrees. Random:
    the three planted sinks, which read no body content, persist (the BOS one only with <s> in
    front, the lone-first-row and p_1 ones bare too). Repeated: the BOS content sink (RoPE) is kept
    with <s> in front and absent bare, on random tokens as well (it needs <s>, so it does not test
    the lemma); the lone-first-row sink (RoPE), present on bare random tokens, is gone on a bare
    repeated token (the contrast Appendix C.1's lemma predicts); the p_1 sink is kept either way."""
    bos, lone, p1 = rows["llama_bos_plant"], rows["llama_lone_first_plant"], rows["gpt2_p1_plant"]
    if kind == "random":
        return {"bos_plant_kept_with_bos": bos["random"] > 0, "lone_first_plant_kept_bare": lone["random_bare"] > 0,
                "p1_plant_kept": p1["random"] > 0 and p1["random_bare"] > 0}
    return {"bos_plant_kept_with_bos": bos["repeated"] > 0,
            "bos_plant_absent_without_bos": bos["repeated_bare"] == 0 and bos["random_bare"] == 0,
            "lone_first_plant_gone_when_all_equal": lone["random_bare"] > 0 and lone["repeated_bare"] == 0,
            "p1_plant_kept": p1["repeated"] > 0 and p1["repeated_bare"] > 0}


def _certificate(rows: dict, extra: dict, kind: str, with_table: bool) -> Certificate:
    agree = constructions_agree(rows, kind)
    ok = all(agree.values())
    columns = ("natural", kind, kind + "_bare")
    return Certificate(
        verdict="out_of_scope" if ok else "inconclusive",
        counterexample=None if ok else {"constructions": agree, "why": "a planted or random-weight decoder does not "
                                        "behave as its construction (or Appendix C.1's lemma) says: the run is broken"},
        parameters=extra["params"],
        evidence={"sink_first": {name: {c: r[c] for c in columns} for name, r in rows.items()}, "constructions": agree,
                  "minilm_attention": rows["minilm"]["attention"]},
        tables={"table1": extra["table"]} if with_table else {},
    )


@check("gu_inputs.random_tokens")
def random_tokens(ctx: Context) -> Certificate:
    """Sink_first on random tokens beside natural text (Table 1, random column)."""
    shared, reason = _shared(ctx)
    if shared is None:
        return Certificate(verdict="skipped", evidence={"reason": reason})
    return _certificate(*shared, "random", with_table=True)


@check("gu_inputs.repeated_tokens")
def repeated_tokens(ctx: Context) -> Certificate:
    """Sink_first on one repeated token, with the tokenizer's special tokens and without (Table 1,
    repeated column; Appendix C.1)."""
    shared, reason = _shared(ctx)
    if shared is None:
        return Certificate(verdict="skipped", evidence={"reason": reason})
    return _certificate(*shared, "repeated", with_table=False)
