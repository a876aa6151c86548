"""A small decoder-only transformer (nanoGPT-like) with a pluggable attention kind, positional
encoding, norm placement and attention-bias slot.

Used by the sink-emergence experiments (docs/empirical.md) and Gu et al.'s architecture tables.
One readable file:

- pre-LayerNorm blocks (``norm="post"``: LayerNorm after each residual sum instead), GELU MLP;
- positions (``pos``, :mod:`sinkcheck.models.positions`): learned absolute (default),
  sinusoidal, none (NoPE), T5-style relative bias, ALiBi, RoPE;
- attention weights come from the registry (``sinkcheck.variants``): ``kind`` names the legacy
  operations (softmax, unnormalised sigmoid with a shift, ReLU; the same floats as before the
  registry), ``attention`` any registered one with its extra (:class:`SelfAttention`);
- an optional bias slot (``slot``, Gu et al. Section 7.2): an extra key k* with value v* that
  every query sees: "k" (learned k*, v* fixed: 0, or ``slot_value_norm`` times e_1 or the
  normalised all-ones vector, Table 5), "kv" (both learned), "v" (no extra key: a learned v*
  added to every output, Softmax(QK^T/sqrt(d_h) + M) V + v*, Table 4's last row), or
  "sink_token" (a learned input vector placed before BOS that every layer processes);
  the maps returned exclude the slot, whose weights come back separately;
- position 0 of every sequence is the BOS token (``GPTConfig.bos_id``);
- ``forward(idx, return_attn=True)`` also returns every layer's attention maps (for the metric)
  and each layer's residual input.

Shapes: B batch, T sequence length (BOS included), C = n_embd, nh = n_head, hs = C // nh.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sinkcheck import validate, variants
from sinkcheck.errors import InvalidInputError
from sinkcheck.core.attention_torch import KINDS
from sinkcheck.models import positions as P
from sinkcheck.variants import stable

LEGACY = {"softmax": "softmax", "sigmoid": "sigmoid", "relu": "relu_length"}
"""The registry operation of each legacy ``kind`` (ReLU with ``relu_normalise="none"``: "relu")."""

SLOTS = ("none", "sink_token", "kv", "k", "v")
"""The attention-bias slots of Gu et al.'s Table 4 ("k" with a fixed value is Table 5's)."""

SLOT_VALUES = ("e1", "ones")
"""Directions of a fixed slot value, e_1 or the all-ones vector over sqrt(hs)."""


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (defaults: the CPU sink-emergence runs)."""

    vocab_size: int = 32  # token ids 0..vocab_size-1; BOS is one of them
    block_size: int = 33  # longest sequence T (BOS + 32 tokens)
    n_layer: int = 2  # transformer blocks
    n_head: int = 2  # heads per block
    n_embd: int = 64  # residual width C (must be divisible by n_head)
    kind: str = "softmax"  # attention kind: softmax | sigmoid | relu
    pos: str = "learned"  # positional encoding: learned | sinusoidal | nope | relative | alibi | rope
    norm: str = "pre"  # LayerNorm before each sub-layer (pre) or after each residual sum (post)
    slot: str = "none"  # attention-bias slot: none | sink_token | kv | k | v
    slot_value_norm: float = 0.0  # slot "k": the fixed value's norm (0: Gu et al.'s zero value)
    slot_value_dir: str = "e1"  # slot "k": the fixed value's direction, e1 | ones
    sigmoid_shift: float | None = None  # sigmoid scores get + shift; None = -log(block_size)
    relu_normalise: str = "length"  # ReLU weights divided by the number of visible keys ("none": raw)
    mlp: bool = True  # include the MLP sub-layer
    bos_id: int = 0  # the token placed at position 0
    init_std: float = 0.02  # std of the normal initialisation of every weight matrix
    attention: str | None = None  # a registered operation (sinkcheck.variants); None: the legacy ``kind``

    @property
    def operation(self):
        """The registry operation of the model, ``attention`` or else the legacy ``kind``'s."""
        if self.attention is not None:
            return variants.get(self.attention)
        return variants.get("relu" if self.kind == "relu" and self.relu_normalise == "none" else LEGACY[self.kind])

    def __post_init__(self) -> None:
        validate.choice("kind", self.kind, KINDS)
        if self.attention is not None:
            op = variants.get(self.attention)
            if self.kind != "softmax":
                raise InvalidInputError(f"kind: must stay 'softmax' (the default) when attention is given "
                                        f"(got {self.kind!r} with attention={self.attention!r})")
            if op.extra == "token" and self.slot in ("none", "sink_token"):
                self.slot = "sink_token"  # the operation's extra is the sink token slot
            elif op.extra != "none" and self.slot != "none":
                raise InvalidInputError(f"slot: must be 'none' with attention {self.attention!r}, whose extra is "
                                        f"{op.extra!r} (got {self.slot!r})")
            if op.score == "elu1_kernel" and self.pos in ("relative", "alibi"):
                raise InvalidInputError(f"pos: a kernel score (attention {self.attention!r}) takes no score bias "
                                        f"(got {self.pos!r})")
        validate.choice("relu_normalise", self.relu_normalise, ("length", "none"))
        validate.choice("pos", self.pos, P.POSITIONS)
        validate.choice("norm", self.norm, ("pre", "post"))
        validate.choice("slot", self.slot, SLOTS)
        validate.choice("slot_value_dir", self.slot_value_dir, SLOT_VALUES)
        if self.slot_value_norm < 0 or (self.slot_value_norm and self.slot != "k"):
            raise InvalidInputError("slot_value_norm: must be >= 0, and nonzero only with slot='k' "
                                    f"(got {self.slot_value_norm} with slot={self.slot!r})")
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            validate.integer_at_least(name, getattr(self, name), 1)
        if self.n_embd % self.n_head:
            raise InvalidInputError(
                f"n_embd: must be divisible by n_head={self.n_head} (got {self.n_embd})")
        if self.pos == "alibi" and self.n_head & (self.n_head - 1):
            raise InvalidInputError(f"n_head: ALiBi's slopes 2^(-8h/n_head) need a power of 2 (got {self.n_head})")
        if self.pos in ("rope", "sinusoidal") and (self.n_embd // self.n_head if self.pos == "rope" else self.n_embd) % 2:
            raise InvalidInputError(f"n_embd: {self.pos} positions need an even "
                                    f"{'head size' if self.pos == 'rope' else 'width'} (got n_embd={self.n_embd})")
        if not 0 <= self.bos_id < self.vocab_size:
            raise InvalidInputError(f"bos_id: must lie in [0, {self.vocab_size - 1}] (got {self.bos_id})")
        validate.positive("init_std", self.init_std)


def memory_bytes(cfg: GPTConfig, batch: int) -> float:
    """An upper estimate of training memory: parameters (about 12 n_embd^2 per block with the MLP,
    4 without, plus the embeddings) with gradients and AdamW's moments, and one batch's
    activations: attention maps (n_head T^2 per layer) and residual streams (float32)."""
    C, T, L = cfg.n_embd, cfg.block_size, cfg.n_layer
    params = L * (12 if cfg.mlp else 4) * C * C + (cfg.vocab_size + T) * C
    acts = batch * L * (4 * cfg.n_head * T * T + 16 * T * C)
    return 4.0 * (4 * params + 2 * acts)


class SelfAttention(nn.Module):
    """Causal multi-head self-attention; the weights come from the registry operation. The op's extra:
    "logit" a logit per head (``sink_logit``, init 0), "key" a key per head with value 0 (``k_bias``,
    as slot "k", init 0), "token" the "sink_token" slot, "gate_head" / "gate_elem" the heads' output
    times sigmoid(x W_g), x this layer's input (after the pre-norm), one gate per head or per coordinate
    (``gate``, before W_O); score "elu1_kernel": x_ij = phi(q_i) . phi(k_j), phi = elu + 1."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.nh, self.hs = cfg.n_head, cfg.n_embd // cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)  # W_Q, W_K, W_V stacked
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)  # W_O
        self.op = cfg.operation
        self.weights = (copy.deepcopy(self.op.torch_weights) if isinstance(self.op.torch_weights, nn.Module)
                        else self.op.torch_weights)
        extra = self.op.extra
        self.sink_logit = nn.Parameter(torch.zeros(self.nh)) if extra == "logit" else None
        self.gate = (nn.Linear(cfg.n_embd, self.nh if extra == "gate_head" else cfg.n_embd, bias=False)
                     if extra in ("gate_head", "gate_elem") else None)
        self.last_gate = None  # (B, nh, T): the gate of the last forward (mean over a head's coordinates)
        # the bias slot's key k* and value v*, one per head (zero-initialised where learned)
        self.k_bias = (nn.Parameter(torch.zeros(self.nh, 1, self.hs)) if cfg.slot in ("k", "kv") or extra == "key"
                       else None)
        self.v_bias = nn.Parameter(torch.zeros(self.nh, 1, self.hs)) if cfg.slot in ("v", "kv") else None
        if cfg.slot == "k":
            direction = (torch.eye(self.hs)[0] if cfg.slot_value_dir == "e1"
                         else torch.ones(self.hs) / math.sqrt(self.hs))
            self.register_buffer("v_fixed", (cfg.slot_value_norm * direction).expand(self.nh, 1, self.hs).clone(),
                                 persistent=False)
        if cfg.pos == "relative":  # a learned bias per head and T5 distance bucket
            self.rel_bias = nn.Parameter(torch.zeros(self.nh, P.T5_BUCKETS))
        if cfg.pos == "alibi":
            self.register_buffer("slopes", P.alibi_slopes(self.nh), persistent=False)
        n = cfg.block_size + (cfg.slot == "sink_token")
        self.register_buffer("mask", torch.ones(n, n, dtype=torch.bool).tril(), persistent=False)

    def position_bias(self, T: int) -> torch.Tensor | float:
        """The scores' positional term (nh, T, T): T5's bucketed bias or ALiBi's -m_h (i - j); 0 else."""
        if self.cfg.pos == "relative":
            return self.rel_bias[:, P.t5_bucket(P.distances(T, self.rel_bias.device))]
        if self.cfg.pos == "alibi":
            return -self.slopes[:, None, None] * P.distances(T, self.slopes.device).clamp(min=0)
        return 0.0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        """x (B, T, C) -> (y (B, T, C), A (B, nh, T, T[+1]), (q, k, v) each (B, nh, T, hs)); with a "k" or "kv"
        slot the first column of A is the slot's weight (a "v" slot adds v* to the output, no column); q and k are those the scores see (after RoPE)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.nh, self.hs).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if self.cfg.pos == "rope":
            q, k = P.rope(q), P.rope(k)
        qkv = (q, k, v)
        mask = self.mask[:T, :T]
        if self.op.score == "elu1_kernel":
            S = stable.elu1_features(q) @ stable.elu1_features(k).transpose(-2, -1)  # (B, nh, T, T)
        else:
            S = (q @ k.transpose(-2, -1)) / math.sqrt(self.hs) + self.position_bias(T)  # (B, nh, T, T)
        if self.cfg.slot in ("k", "kv"):  # prepend the slot as key 0 (visible to all queries)
            k_s = self.k_bias
            v_s = self.v_bias if self.v_bias is not None else self.v_fixed
            S = torch.cat([(q @ k_s.transpose(-2, -1)) / math.sqrt(self.hs), S], dim=-1)  # (B, nh, T, T+1)
            v = torch.cat([v_s.expand(B, -1, -1, -1), v], dim=2)
            mask = torch.cat([torch.ones(T, 1, dtype=torch.bool, device=x.device), mask], dim=1)
        if self.cfg.attention is None and self.cfg.kind == "sigmoid":
            shift = self.cfg.sigmoid_shift
            S = S + (-math.log(self.cfg.block_size) if shift is None else shift)
        kw = {}
        if self.sink_logit is not None:
            kw["s"] = self.sink_logit[:, None]  # (nh, 1) -> (B, nh, T)
        elif self.op.extra == "key":
            kw["s"] = (q @ self.k_bias.transpose(-2, -1))[..., 0] / math.sqrt(self.hs)  # (B, nh, T)
        A = self.weights(S, mask, **kw)
        y = A @ v + (self.v_bias if self.cfg.slot == "v" else 0.0)  # (B, nh, T, hs)
        if kw or self.op.dropped:  # the dropped column's weight as column 0, as a "k" slot's (1 - row sum, >= 0)
            A = torch.cat([(1.0 - A.sum(-1, keepdim=True)).clamp_min(0.0), A], dim=-1)
        if self.gate is not None:
            g = torch.sigmoid(self.gate(x)).view(B, T, self.nh, -1).transpose(1, 2)  # (B, nh, T, 1 or hs)
            y = y * g
            self.last_gate = g.mean(-1)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.c_proj(y), A, qkv


class Block(nn.Module):
    """Pre-norm: x + attn(LN(x)), then x + MLP(LN(x)); post-norm: LN(x + attn(x)), then LN(x + MLP(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.post = cfg.norm == "post"
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd) if cfg.mlp else None
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd)) if cfg.mlp else None

    def forward(self, x: torch.Tensor):
        """x (B, T, C) -> (x', A, qkv) with the attention maps and queries, keys, values of this block."""
        if self.post:
            a, A, qkv = self.attn(x)
            x = self.ln_1(x + a)
            return (self.ln_2(x + self.mlp(x)) if self.mlp is not None else x), A, qkv
        a, A, qkv = self.attn(self.ln_1(x))
        x = x + a
        if self.mlp is not None:
            x = x + self.mlp(self.ln_2(x))
        return x, A, qkv


class GPT(nn.Module):
    """The model; ``forward`` returns logits (B, T, vocab) and, on request, attention maps."""

    def __init__(self, cfg: GPTConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        n_pos = cfg.block_size + (cfg.slot == "sink_token")  # the sink token takes position 0
        self.wpe = nn.Embedding(n_pos, cfg.n_embd) if cfg.pos == "learned" else None
        if cfg.pos == "sinusoidal":
            self.register_buffer("sinusoid", P.sinusoidal(n_pos, cfg.n_embd), persistent=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd) if cfg.norm == "pre" else nn.Identity()
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.sink = nn.Parameter(torch.zeros(1, 1, cfg.n_embd)) if cfg.slot == "sink_token" else None
        for name, p in self.named_parameters():
            if p.dim() >= 2 and not any(n in name for n in ("k_bias", "v_bias", "rel_bias")):
                nn.init.normal_(p, mean=0.0, std=cfg.init_std)
            elif name.endswith("bias") and p.dim() == 1 and "ln" not in name:
                nn.init.zeros_(p)

    def configure_optimizers(self, weight_decay: float, lr: float) -> torch.optim.AdamW:
        """AdamW (betas 0.9, 0.95) with decoupled weight decay on every parameter of two or more
        dimensions and none on the 1-D ones (nanoGPT's split: p.dim() >= 2). Decayed: the weight
        matrices, the embeddings, and also the slot's learned k* and v* (nh, 1, hs) and the sink
        token's vector (1, 1, C); not decayed: the linear layers' biases and the norms' gains."""
        decay = [p for p in self.parameters() if p.dim() >= 2]
        rest = [p for p in self.parameters() if p.dim() < 2]
        return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                  {"params": rest, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, return_attn: bool = False):
        """idx (B, T) long -> dict with ``logits`` (B, T, V), ``loss`` (if targets), and with
        ``return_attn``: ``attn`` (L, B, nh, T, T), ``attn_bias`` (L, B, nh, T): the weight on the
        bias slot or sink token (None without one), ``attn_sink_self`` (L, B, nh): the sink token's
        own query's weight on itself (None without a sink token),
        ``resid`` (L, B, T, C) (each block's input), ``qkv`` (L, 3, B, nh, T, hs), ``gate`` (L, B, nh, T):
        a gated operation's gate (mean over a head's coordinates; None without one); with a dropped column
        (the operation's ``dropped``: softmax1, a sink logit, a key bias), ``attn_bias`` is that column's
        weight, 1 - the row sum (clipped at 0)."""
        B, T = idx.shape
        if T > self.cfg.block_size:
            raise InvalidInputError(f"idx: sequence length must be <= block_size={self.cfg.block_size} (got {T})")
        x = self.wte(idx)  # (B, T, C)
        if self.sink is not None:  # the sink token before BOS: (B, T + 1, C)
            x = torch.cat([self.sink.expand(B, -1, -1), x], dim=1)
        pos = torch.arange(x.shape[1], device=idx.device)
        if self.wpe is not None:
            x = x + self.wpe(pos)
        elif self.cfg.pos == "sinusoidal":
            x = x + self.sinusoid[: x.shape[1]]
        maps, resid, qkvs, gates = [], [], [], []
        for block in self.blocks:
            resid.append(x[:, -T:])
            x, A, qkv = block(x)
            maps.append(A)
            gates.append(block.attn.last_gate)
            if return_attn:
                qkvs.append(torch.stack([t[..., -T:, :] for t in qkv]))
        logits = self.lm_head(self.ln_f(x[:, -T:]))
        out = {"logits": logits}
        if targets is not None:
            out["loss"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        if return_attn:
            A = torch.stack(maps)  # (L, B, nh, T, T[+1]), or (L, B, nh, T + 1, T + 1) with a sink token
            # the sink token is a real position: its own query's weight on itself (it sees only itself)
            out["attn_sink_self"] = A[..., 0, 0] if self.sink is not None else None
            if self.sink is not None:
                A = A[..., 1:, :]
            column = self.cfg.slot in ("k", "kv", "sink_token") or self.cfg.operation.dropped
            out["gate"] = None if gates[0] is None else torch.stack(gates)[..., -T:]  # (L, B, nh, T)
            out["attn"] = A[..., 1:] if column else A
            out["attn_bias"] = A[..., 0] if column else None
            out["resid"] = torch.stack(resid)
            out["qkv"] = torch.stack(qkvs)  # (L, 3, B, nh, T, hs), the real tokens' (no sink token)
        return out


