"""`reports/data_docs`: every asset's latest validation as static HTML that renders air-gapped."""

import dagster as dg

from orchestration.automation import downstream_condition
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.contract import GOLD_TABLES, SILVER_TABLES
from transforms.quality.data_docs import build_data_docs, remote_references
from transforms.quality.deliveries import delivery_outcome
from transforms.quality.results import load_outcomes

KEY = dg.AssetKey(["reports", "data_docs"])


def data_docs_asset(catalogue: dict[str, Dataset]) -> dg.AssetsDefinition:
    """The Data Docs of every bronze table of `catalogue`, and of silver and gold."""

    @dg.asset(
        key=KEY,
        deps=[
            *(dg.AssetKey(["bronze", d]) for d in sorted(catalogue)),
            *(dg.AssetKey(["silver", t]) for t in SILVER_TABLES),
            *(dg.AssetKey(["gold", t]) for t in GOLD_TABLES),
        ],
        automation_condition=downstream_condition(),
        group_name="quality",
        kinds={"html", "great_expectations"},
        description="Great Expectations results of the latest validation of every bronze, silver "
        "and gold table, as self-contained HTML under reports/data_docs/ (no CDN).",
        check_specs=[
            dg.AssetCheckSpec(
                "renders_offline", asset=KEY, description="No network loads in any page."
            )
        ],
    )
    def data_docs(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        env = lakehouse.env()
        outcomes = [delivery_outcome(env), *load_outcomes(env)]
        index = build_data_docs(outcomes, env.reports / "data_docs")
        remote = sorted(
            {
                ref
                for page in index.parent.glob("*.html")
                for ref in remote_references(page.read_text())
            }
        )
        failing = [o.suite for o in outcomes if not o.success or o.warnings]
        return dg.MaterializeResult(
            metadata={
                "index": dg.MetadataValue.path(str(index)),
                "suites": len(outcomes),
                "suites_with_failures": ", ".join(failing) or "none",
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="renders_offline",
                    passed=not remote,
                    metadata={"remote": str(remote or "none")},
                )
            ],
        )

    return data_docs
