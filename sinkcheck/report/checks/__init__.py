"""The registered checks of ``sinkcheck report``, one module per paper topic."""
