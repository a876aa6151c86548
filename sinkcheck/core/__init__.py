"""One attention core for the whole suite (numpy float64 for checks, torch for training)."""
