"""Evaluation domain: accuracy against the synthetic ground truth, every run."""
