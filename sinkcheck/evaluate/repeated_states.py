"""Gu et al.'s Appendix C.1 on real architectures: T copies of one token fed to ``transformers``
models (float64 weights, softmax in float32) and the suite's GPT (float64), with the checks of
docs/gu_appendix_c.md.

- :func:`hidden_spread`: the lemma, max_t ||h_t - h_1|| / ||h_1|| per layer (rounding where it
  applies; not for learned absolute positions, or when a position vector is slipped into the input:
  ``input_pe``);
- :func:`rope_heads`: every weight of a LLaMA (RoPE) head against Prop. 4's bound, with xi taken
  from the model's own q and k (hooked at q_proj / k_proj, rotated by the model's rotary
  embedding; the recomputed map must equal the model's);
- :func:`alibi_heads`: BLOOM's maps against Prop. 3's closed form e^{-m d} / sum (eq. 22);
- :func:`tight_rope_head`: a LLaMA head set to reach Prop. 4's bound at t = 2 (first rotary
  frequency pi, q and k along that pair), so a wrong bound is caught on a real model.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sinkcheck import validate
from sinkcheck.theory import repeated_tokens as rt

U32 = float(np.finfo(np.float32).eps) / 2
"""The unit roundoff of float32, in which ``transformers`` computes every softmax (even in a float64 model)."""


def f32_tolerance(T: int, safety: float = 16.0) -> float:
    """safety * gamma_T in float32 (Higham, Lemma 3.1): the relative rounding of a softmax over T
    keys; what "equal up to rounding" means for maps and hidden states of these models."""
    T = validate.integer_at_least("T", T, 1)
    return safety * T * U32 / (1 - T * U32)


def hidden_spread(hidden) -> list[float]:
    """max_t ||h_t - h_1|| / ||h_1|| of each layer's hidden states (a sequence of (1, T, C) or
    (T, C) tensors): 0 up to rounding iff every position has the first one's state."""
    out = []
    for h in hidden:
        h = h.detach().double().reshape(-1, h.shape[-1])
        out.append(float((h - h[0]).norm(dim=-1).max() / h[0].norm()))
    return out


def _embed(model, token: int, T: int, input_pe: float, seed: int) -> torch.Tensor:
    emb = model.get_input_embeddings()(torch.full((1, T), token))
    if input_pe:  # planted: a position vector added to the input of a model that has none
        gen = torch.Generator().manual_seed(seed)
        emb = emb + input_pe * torch.randn(1, T, emb.shape[-1], generator=gen, dtype=emb.dtype)
    return emb


def run(model, token: int = 7, T: int = 64, input_pe: float = 0.0, seed: int = 0) -> dict:
    """Hidden states and attention maps of T copies of ``token`` (float64, no gradients); with
    ``input_pe`` > 0 a random position vector of that scale is added to every input embedding."""
    validate.integer_at_least("T", T, 2)
    model = model.double().eval()
    with torch.no_grad():
        out = model(inputs_embeds=_embed(model, token, T, input_pe, seed), output_attentions=True,
                    output_hidden_states=True)
    return {"hidden": out.hidden_states, "attn": [a[0].numpy() for a in out.attentions]}


def rope_heads(model, token: int = 7, T: int = 64, input_pe: float = 0.0) -> list[dict]:
    """Per LLaMA head: xi = max ||q|| max ||k|| / sqrt(d_h) (the model's own q and k, before the
    rotation, which keeps norms), the largest gap between the recomputed and the model's map, the
    bound excess (<= 0: every weight obeys Prop. 4) and the exponent the weights use,
    max log(A (t - 1) / (1 - A)) / xi (Prop. 4 allows 2)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    model = model.double().eval()
    caps, hooks = {}, []
    for n, layer in enumerate(model.layers):
        for name in ("q_proj", "k_proj"):
            hooks.append(getattr(layer.self_attn, name).register_forward_hook(
                lambda _m, _i, o, key=(n, name): caps.__setitem__(key, o.detach())))
    try:
        emb = _embed(model, token, T, input_pe, 0)
        with torch.no_grad():
            out = model(inputs_embeds=emb, output_attentions=True)
            cos, sin = model.rotary_emb(emb, torch.arange(T)[None])
    finally:
        for h in hooks:
            h.remove()
    H = model.config.num_attention_heads
    d = model.config.hidden_size // H
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    rows = torch.arange(1, T + 1, dtype=torch.float64)[:, None]
    res = []
    for n in range(len(model.layers)):
        q, k = (caps[(n, p)].view(1, T, H, d).transpose(1, 2) for p in ("q_proj", "k_proj"))
        qr, kr = apply_rotary_pos_emb(q, k, cos, sin)
        A = ((qr @ kr.transpose(-1, -2)) / math.sqrt(d)).masked_fill(~causal, -math.inf).softmax(-1)[0]
        for h in range(H):
            xi = float(q[0, h].norm(dim=-1).max() * k[0, h].norm(dim=-1).max() / math.sqrt(d))
            own = out.attentions[n][0, h]
            used = torch.log(own * (rows - 1) / (1 - own)).masked_fill(~causal, -math.inf)  # -inf in row 1
            res.append({"layer": n, "head": h, "xi": xi, "recompute_gap": float((A[h] - own).abs().max()),
                        "bound_excess": rt.bound_excess(own.numpy(), xi),
                        "exponent_used": float(used[1:].max() / xi) if xi > 0 else 0.0,
                        "alpha1": rt.alpha1(own.numpy())})
    return res


def scale_qk(model, factor: float):
    """Multiply every q_proj and k_proj weight of a LLaMA model by ``factor`` (in place; scores grow
    by factor^2), so that the heads' xi is of order 1 rather than random init's ~0.04."""
    with torch.no_grad():
        for layer in model.layers:
            layer.self_attn.q_proj.weight.mul_(factor)
            layer.self_attn.k_proj.weight.mul_(factor)
    return model


def tight_rope_head(model, xi: float, token: int = 7):
    """Set LLaMA's first rotary frequency to pi and head 0 of layer 0 to q = a e_0, k = a e_0 on the
    repeated ``token`` (e_0 the first rotary pair), with a^2 / sqrt(d_h) = xi: its scores are
    xi (-1)^{t-j}, so row 2 puts e^{2 xi} / (e^{2 xi} + 1) on the diagonal, Prop. 4's bound."""
    model = model.double().eval()
    H = model.config.num_attention_heads
    d = model.config.hidden_size // H
    a = math.sqrt(xi * math.sqrt(d))
    with torch.no_grad():
        model.rotary_emb.inv_freq[0] = math.pi
        attn = model.layers[0].self_attn
        u = model.layers[0].input_layernorm(model.get_input_embeddings()(torch.tensor([token])))[0]
        for proj in (attn.q_proj, attn.k_proj):
            proj.weight[:d] = 0.0
            proj.weight[0] = a * u / u.dot(u)
    return model


def nope_llama(model):
    """A LLaMA whose rotary frequencies are all 0: R_0 = I, so no position enters anywhere (NoPE)."""
    with torch.no_grad():
        model.rotary_emb.inv_freq.zero_()
    return model


def uniform_gap(model, token: int = 7, T: int = 64) -> float:
    """The largest gap between any attention weight of T repeated tokens and 1/t (Prop. 1)."""
    rows = 1.0 / np.arange(1, T + 1)[:, None]
    causal = np.tri(T, dtype=bool)
    return float(max(np.abs(np.where(causal, A - rows, 0.0)).max() for maps in run(model, token, T)["attn"]
                     for A in maps))


def alibi_heads(model, token: int = 7, T: int = 64) -> list[dict]:
    """Per BLOOM head: the largest gap between the model's map and Prop. 3's closed form with the
    slopes 2^{-8h/H} (Press et al.) of :func:`~sinkcheck.theory.repeated_tokens.alibi_slopes`, whether the first
    token has the smallest weight of every row t >= 2, and alpha_1 against H_T / T."""
    r = run(model, token, T)
    slopes = rt.alibi_slopes(model.config.n_head)
    res = []
    for n, maps in enumerate(r["attn"]):
        for h, A in enumerate(maps):
            closed = rt.repeated_weights(-slopes[h] * np.arange(T))
            res.append({"layer": n, "head": h, "slope": slopes[h], "closed_form_gap": float(np.abs(A - closed).max()),
                        "first_is_row_min": bool(all(A[i, 0] <= A[i, :i + 1].min() for i in range(1, T))),
                        "alpha1": rt.alpha1(A), "uniform_alpha1": float(rt.uniform_alpha1(T))})
    return res


def gpt_run(model, token: int = 1, T: int = 32) -> dict:
    """The suite's GPT (:class:`~sinkcheck.models.gpt.GPT`) on T copies of ``token``, float64:
    ``hidden`` (each block's input, then the logits) and ``attn`` (per layer, (nh, T, T))."""
    validate.integer_at_least("T", T, 2)
    model = model.double().eval()
    with torch.no_grad():
        out = model(torch.full((1, T), token), return_attn=True)
    return {"hidden": [*out["resid"][:, 0], out["logits"][0]], "attn": [a[0].numpy() for a in out["attn"]]}


def slip_input_pe(model, seed: int = 0):
    """Planted error: give a NoPE GPT a learned position table (the one the "learned" variant adds
    to the input), so the model is no longer position-free."""
    gen = torch.Generator().manual_seed(seed)
    table = torch.nn.Embedding(model.cfg.block_size, model.cfg.n_embd)
    with torch.no_grad():
        table.weight.copy_(model.cfg.init_std * torch.randn(table.weight.shape, generator=gen))
    model.wpe = table.to(next(model.parameters()).dtype)
    return model


def relative_heads(model, token: int = 1, T: int = 32) -> list[dict]:
    """Per head of a GPT with ``pos="relative"``: the model's own bias g(d) = rel_bias[h, bucket(d)]
    (buckets of :func:`~sinkcheck.theory.repeated_tokens.t5_bucket`), the largest gap between its
    map and Prop. 2's closed form (eq. 20), the distances where the first token exceeds 1/t
    (:func:`~sinkcheck.theory.repeated_tokens.first_token_excess`) and alpha_1."""
    r = gpt_run(model, token, T)
    buckets = [rt.t5_bucket(d) for d in range(T)]
    res = []
    for n, block in enumerate(model.blocks):
        for h in range(model.cfg.n_head):
            g = block.attn.rel_bias[h].detach().double().numpy()[buckets]
            A = r["attn"][n][h]
            res.append({"layer": n, "head": h, "closed_form_gap": float(np.abs(A - rt.repeated_weights(g)).max()),
                        "excess_at": rt.first_token_excess(g), "non_increasing": bool(np.all(np.diff(g) <= 0)),
                        "alpha1": rt.alpha1(A)})
    return res
