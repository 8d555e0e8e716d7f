"""Data quality: Great Expectations suites kept in the repo, validation, Data Docs and audits.

* `suites`: the suites (`expectations/<layer>/<table>.json`), generated from the catalogue;
* `validate`: run a suite over a polars frame, results a steward can act on;
* `data_docs`: self-contained HTML pages of validation outcomes.

Nothing is imported here, so importing a sibling module does not import Great Expectations.
"""
