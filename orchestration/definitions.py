"""Entry point of the code location: every domain's definitions under `orchestration/defs/`."""

from pathlib import Path

import dagster as dg

from orchestration.classification import with_classifications
from transforms.config import disable_telemetry

disable_telemetry()
defs = with_classifications(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
