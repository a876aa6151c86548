"""A small decoder-only transformer (nanoGPT-like) with a pluggable attention kind.

Used by the sink-emergence experiments (docs/empirical.md).  One readable file:

- pre-LayerNorm blocks, learned absolute positions, GELU MLP, tied nothing;
- attention weights come from :func:`sinkcheck.core.attention_torch.attention` (softmax,
  unnormalised sigmoid, ReLU), never from a second softmax;
- optional learnable key bias with a zero value per head (Gu et al. 2025, "key bias"): an extra
  key slot k* that every query sees, whose value is 0, so its mass is pure "switch-off";
- position 0 of every sequence is the BOS token (``GPTConfig.bos_id``);
- ``forward(idx, return_attn=True)`` also returns every layer's attention maps (for the metric)
  and each layer's residual input.

Shapes: B batch, T sequence length (BOS included), C = n_embd, nh = n_head, hs = C // nh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.core.attention_torch import KINDS, attention


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (defaults: the CPU sink-emergence runs)."""

    vocab_size: int = 32  # token ids 0..vocab_size-1; BOS is one of them
    block_size: int = 33  # longest sequence T (BOS + 32 tokens)
    n_layer: int = 2  # transformer blocks
    n_head: int = 2  # heads per block
    n_embd: int = 64  # residual width C (must be divisible by n_head)
    kind: str = "softmax"  # attention kind: softmax | sigmoid | relu
    key_bias: bool = False  # add a learnable key slot with value 0 (Gu et al.'s key-bias sink)
    sigmoid_shift: float | None = None  # sigmoid scores get + shift; None = -log(block_size)
    relu_normalise: str = "length"  # ReLU weights divided by the number of visible keys ("none": raw)
    mlp: bool = True  # include the MLP sub-layer
    bos_id: int = 0  # the token placed at position 0
    init_std: float = 0.02  # std of the normal initialisation of every weight matrix

    def __post_init__(self) -> None:
        validate.choice("kind", self.kind, KINDS)
        validate.choice("relu_normalise", self.relu_normalise, ("length", "none"))
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            validate.integer_at_least(name, getattr(self, name), 1)
        if self.n_embd % self.n_head:
            raise InvalidInputError(
                f"n_embd: must be divisible by n_head={self.n_head} (got {self.n_embd})")
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
    """Causal multi-head self-attention; the weights come from the core attention function."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.nh, self.hs = cfg.n_head, cfg.n_embd // cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)  # W_Q, W_K, W_V stacked
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)  # W_O
        # key-bias slot: one learnable key per head, value fixed at 0
        self.k_bias = nn.Parameter(torch.zeros(self.nh, 1, self.hs)) if cfg.key_bias else None
        self.register_buffer("mask", torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool).tril(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x (B, T, C) -> (y (B, T, C), A (B, nh, T, T), A_bias (B, nh, T) or None)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.nh, self.hs).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        mask = self.mask[:T, :T]
        if self.k_bias is not None:  # prepend the bias slot as key 0 (visible to all queries)
            k = torch.cat([self.k_bias.expand(B, -1, -1, -1), k], dim=2)  # (B, nh, T+1, hs)
            v = torch.cat([torch.zeros_like(v[:, :, :1]), v], dim=2)
            mask = torch.cat([torch.ones(T, 1, dtype=torch.bool, device=x.device), mask], dim=1)
        S = (q @ k.transpose(-2, -1)) / math.sqrt(self.hs)  # (B, nh, T, T[+1])
        if self.cfg.kind == "sigmoid":
            shift = self.cfg.sigmoid_shift
            S = S + (-math.log(self.cfg.block_size) if shift is None else shift)
        A = attention(S, self.cfg.kind, mask, relu_normalise=self.cfg.relu_normalise)
        y = (A @ v).transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        if self.k_bias is not None:
            return self.c_proj(y), A[..., 1:], A[..., 0]
        return self.c_proj(y), A, None


class Block(nn.Module):
    """x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd) if cfg.mlp else None
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd)) if cfg.mlp else None

    def forward(self, x: torch.Tensor):
        """x (B, T, C) -> (x', A, A_bias) with the attention maps of this block."""
        a, A, A_bias = self.attn(self.ln_1(x))
        x = x + a
        if self.mlp is not None:
            x = x + self.mlp(self.ln_2(x))
        return x, A, A_bias


class GPT(nn.Module):
    """The model; ``forward`` returns logits (B, T, vocab) and, on request, attention maps."""

    def __init__(self, cfg: GPTConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        for name, p in self.named_parameters():
            if p.dim() >= 2 and "k_bias" not in name:
                nn.init.normal_(p, mean=0.0, std=cfg.init_std)
            elif name.endswith("bias") and p.dim() == 1 and "ln" not in name:
                nn.init.zeros_(p)

    def configure_optimizers(self, weight_decay: float, lr: float) -> torch.optim.AdamW:
        """AdamW (betas 0.9, 0.95) with decoupled weight decay on every weight matrix and none on
        biases, LayerNorm gains and embeddings' 1-D parameters (nanoGPT's split: p.dim() >= 2)."""
        decay = [p for p in self.parameters() if p.dim() >= 2]
        rest = [p for p in self.parameters() if p.dim() < 2]
        return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                  {"params": rest, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, return_attn: bool = False):
        """idx (B, T) long -> dict with ``logits`` (B, T, V), ``loss`` (if targets), and with
        ``return_attn``: ``attn`` (L, B, nh, T, T), ``attn_bias`` (L, B, nh, T) or None,
        ``resid`` (L, B, T, C) (each block's input)."""
        B, T = idx.shape
        if T > self.cfg.block_size:
            raise InvalidInputError(f"idx: sequence length must be <= block_size={self.cfg.block_size} (got {T})")
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, C)
        maps, bias_maps, resid = [], [], []
        for block in self.blocks:
            resid.append(x)
            x, A, A_bias = block(x)
            maps.append(A)
            bias_maps.append(A_bias)
        logits = self.lm_head(self.ln_f(x))
        out = {"logits": logits}
        if targets is not None:
            out["loss"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        if return_attn:
            out["attn"] = torch.stack(maps)
            out["attn_bias"] = torch.stack(bias_maps) if self.cfg.key_bias else None
            out["resid"] = torch.stack(resid)
        return out


