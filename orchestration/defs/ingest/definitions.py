"""Ingestion definitions for the configured catalogue."""

from orchestration.defs.ingest.factory import build_ingest_defs
from transforms.catalogue import load_catalogue
from transforms.config import get_environment

defs = build_ingest_defs(load_catalogue(get_environment().catalogue_dir))
