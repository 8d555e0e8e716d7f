"""Binds the shared resources for every domain."""

import dagster as dg

from orchestration.resources import shared_resources

defs = dg.Definitions(resources=shared_resources())
