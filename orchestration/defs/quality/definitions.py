"""Quality definitions."""

import dagster as dg

from orchestration.defs.quality.data_docs import data_docs

defs = dg.Definitions(assets=[data_docs])
