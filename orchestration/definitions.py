"""Entry point of the code location: the deployed definitions, built from configuration."""

from orchestration.build import build_definitions
from transforms.config import disable_telemetry, get_environment

disable_telemetry()
defs = build_definitions(get_environment())
