"""The report: the runner and its templates."""
