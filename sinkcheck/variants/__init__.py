"""Attention operations that keep, move or remove the sink, in one registry
(:data:`~sinkcheck.variants.registry.OPERATIONS`), with numpy references and stable torch paths."""

from sinkcheck.variants.registry import EXTRAS, OPERATIONS, SCORES, Operation, get, register, unregister

__all__ = ["EXTRAS", "OPERATIONS", "SCORES", "Operation", "get", "register", "unregister"]
