"""Evaluate a claim on an instance: sink vs diagonal, smoothing, the trigger task."""
