"""Helpers of the test-suite: hypothesis profiles, brackets, strategies, planted errors."""
