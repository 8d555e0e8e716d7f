"""Normalisation rules shared by every dataset: names, dates of birth, phones, postcodes, addresses.

Pure functions over one value each, built on well-kept libraries (nameparser, phonenumbers,
pycountry, unidecode). `udfs` lists them as SQL functions, registered on DuckDB (`duckdb_udfs`) and Spark (`spark_udfs`).
"""
