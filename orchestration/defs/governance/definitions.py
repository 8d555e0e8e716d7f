"""Governance definitions for the configured partner agreements."""

from orchestration.defs.governance.cuts import build_cut_defs
from transforms.config import get_environment
from transforms.governance.partners import load_partners

defs = build_cut_defs(load_partners(get_environment().catalogue_dir))
