"""The torch models sinkcheck trains or builds: the suite's own GPT (:mod:`sinkcheck.models.gpt`) with the
positional encodings of :mod:`sinkcheck.models.positions`, and random-weight transformers checkpoints
(:mod:`sinkcheck.models.random_models`)."""
