"""Torch models and training runs, and the pretrained model."""
