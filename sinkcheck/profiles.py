"""The sizes of ``sinkcheck report``'s two profiles, each number written once.

"quick" is the CPU default (minutes); "full" draws about ten times as many samples and trains
longer. A report check reads its sizes with ``profiles.get(ctx.profile)``; the topics follow the
check modules (foundation, switch, smoothing, trigger, sinkdiag, empirical).
"""

from __future__ import annotations

from dataclasses import dataclass

from sinkcheck import validate


@dataclass(frozen=True)
class Profile:
    """Sample counts, seeds and training lengths of one profile (what each number sizes)."""

    name: str
    # foundation
    cost_identity_samples: int  # random matrices W against the cost identity
    # switch and sink geometry
    switch_forward_heads: int  # sampled heads against the S1 bound
    switch_converse_heads: int  # sampled heads per converse (S2, S3)
    representability_per_kind: int  # embeddings per problem kind, LP against Theorem G
    sink_cost_samples: int  # embeddings per mask against Theorem C's bounds
    wendel_trials: int  # Monte Carlo draws per query count for Wendel's probability
    # smoothing
    brute_force_k: tuple[int, ...]  # values of k whose derivation is brute-forced in sympy
    monotonicity_models: int  # sampled models classified by the monotonicity conditions
    closed_form_models: int  # sampled models, closed forms against exact moments
    monte_carlo_models: int  # models whose D_k(lam) is estimated by Monte Carlo
    monte_carlo_samples: int  # Monte Carlo samples per model
    cosine_models: int  # sampled models against the cosine-direction conditions
    cosine_table_cases: int  # cases of the predicted-vs-measured table
    cosine_table_sequences: int  # Monte Carlo sequences per case of that table
    # trigger task
    necessity_heads: int  # random and sink heads per family probed against Theorem 1
    necessity_optimised_heads: int  # optimised heads per family (with and without a BOS penalty)
    multi_head_instances: int  # pairs of perturbed sink heads against Theorem 2
    relu_heads: int  # position-free ReLU head sums against Theorem 4's lower bound
    trigger_seeds: int  # seeds per (attention kind, heads) of the trained trigger models
    trigger_steps: int  # training steps of each trigger model
    # sink vs diagonal (Section 7)
    sinkdiag_instances: int  # sampled instances, each with and without the fallback constraints
    sinkdiag_large_C_every: int | None  # every such instance draws C from (6, 10, 14) (None: never)
    sinkdiag_whole_grid: bool  # the comparison table on the whole default grid (else C = 2, lam = 1)
    # empirical
    dormant_seeds: int  # seeds per attention kind on bigram-backcopy
    dormant_steps: int  # training steps of each bigram-backcopy model
    lm_steps: int  # training steps of the byte-level LM
    lm_byte_budget: int | None  # corpus bytes of the LM (None: its training profile's)
    pretrained_sentences: int | None  # shipped sentences given to MiniLM (None: all)
    gu_inputs_sequences: int  # random and repeated sequences per model (Gu et al.'s Table 1 protocol, T = 64)
    sinkdiag_train_profile: str  # the training profile of the sink-vs-diagonal head
    sinkdiag_train_dims: tuple[int, ...] | None  # its dimensions d (None: its training profile's)
    sinkdiag_train_steps: int | None  # its training steps (None: its training profile's)
    # Gu et al., Appendix C.1 (repeated tokens)
    gu_appc_instances: int  # random instances per proposition (biases, slopes, RoPE pairs)
    gu_appc_model_seeds: int  # random-weight models per architecture
    # Gu et al.'s Section 4 and Tables 3-5 (the shipped grid, sinkcheck gu-tables)
    gu_grid_rerun: bool  # re-run the whole grid and decide from it (else decide from the shipped grid)
    gu_check_steps: int  # without gu_grid_rerun: steps of each check's re-run of one row, first grid seed
    # the attention operations (sinkcheck variants's grid)
    variants_grid_rerun: bool  # re-run the whole operation grid (else decide from the shipped runs, re-running one)


PROFILES = {p.name: p for p in (
    Profile("quick", cost_identity_samples=50, switch_forward_heads=200, switch_converse_heads=150,
            representability_per_kind=20, sink_cost_samples=12, wendel_trials=40, brute_force_k=(2, 3),
            monotonicity_models=200, closed_form_models=200, monte_carlo_models=30, monte_carlo_samples=4000,
            cosine_models=300, cosine_table_cases=60, cosine_table_sequences=200, necessity_heads=40,
            necessity_optimised_heads=2, multi_head_instances=30, relu_heads=100, trigger_seeds=2,
            trigger_steps=200, sinkdiag_instances=14, sinkdiag_large_C_every=None, sinkdiag_whole_grid=False,
            dormant_seeds=1, dormant_steps=500, lm_steps=40, lm_byte_budget=200_000, pretrained_sentences=20,
            gu_inputs_sequences=20,
            sinkdiag_train_profile="quick", sinkdiag_train_dims=(8, 128), sinkdiag_train_steps=400,
            gu_appc_instances=200, gu_appc_model_seeds=1,
            gu_grid_rerun=False, gu_check_steps=150, variants_grid_rerun=False),
    Profile("full", cost_identity_samples=500, switch_forward_heads=2000, switch_converse_heads=1500,
            representability_per_kind=200, sink_cost_samples=120, wendel_trials=400, brute_force_k=(2, 3, 4, 5),
            monotonicity_models=2000, closed_form_models=2000, monte_carlo_models=200, monte_carlo_samples=20000,
            cosine_models=3000, cosine_table_cases=300, cosine_table_sequences=2000, necessity_heads=400,
            necessity_optimised_heads=6, multi_head_instances=300, relu_heads=1000, trigger_seeds=3,
            trigger_steps=400, sinkdiag_instances=80, sinkdiag_large_C_every=10, sinkdiag_whole_grid=True,
            dormant_seeds=5, dormant_steps=1500, lm_steps=2000, lm_byte_budget=None, pretrained_sentences=None,
            gu_inputs_sequences=100,
            sinkdiag_train_profile="full", sinkdiag_train_dims=None, sinkdiag_train_steps=None,
            gu_appc_instances=2000, gu_appc_model_seeds=3,
            gu_grid_rerun=True, gu_check_steps=150, variants_grid_rerun=True),
)}
"""The report's profiles by name."""


def get(name: str) -> Profile:
    """The profile ``name`` ("quick" or "full")."""
    return PROFILES[validate.choice("--profile", name, tuple(PROFILES))]
