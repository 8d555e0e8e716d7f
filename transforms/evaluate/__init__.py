"""Accuracy measured against the generator's ground truth (never used by the pipeline itself)."""
