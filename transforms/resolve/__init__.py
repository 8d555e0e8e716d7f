"""Entity resolution with Splink 5 (DuckDB): features, settings, training, clustering, stable ids."""
