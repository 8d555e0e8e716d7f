"""Entity-resolution domain: model training, resolution into gold, accuracy against truth."""
