"""Developer tools that need a source checkout (not in the wheel)."""
