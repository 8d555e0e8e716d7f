"""Governance domain: one partner-cut asset and schedule per `catalogue/partners/*.yml`."""
