"""Entity-resolution definitions."""

import dagster as dg

from orchestration.defs.entity_resolution.assets import (
    entity_resolution_model,
    er_dashboards,
    er_evaluations,
    resolve_entities,
)

defs = dg.Definitions(
    assets=[entity_resolution_model, resolve_entities, er_evaluations, er_dashboards]
)
