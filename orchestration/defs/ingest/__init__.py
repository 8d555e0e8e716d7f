"""Ingestion domain: one bronze asset per catalogue dataset, a landing sensor, refresh schedules."""
