"""Normalisation rules shared by every dataset: names, dates of birth, phones, postcodes, addresses.

Pure functions over one value each, built on well-kept libraries (nameparser, phonenumbers,
pycountry, unidecode). `duckdb_udfs` exposes them to dbt as vectorised DuckDB functions.
"""
