"""The normalisation rules (udfs.py) as Spark SQL functions, for dbt models on the Spark engine.

Spark runs them in Python workers over Arrow batches; the same memoised rules as DuckDB's, so
both engines normalise a value identically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from transforms.normalise.udfs import UDFS, Udf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _row_function(udf: Udf) -> Callable[..., Any]:
    """Struct results leave as tuples in field order, the form Spark's converters expect."""
    names = [f.name for f in udf.arrow_type] if pa.types.is_struct(udf.arrow_type) else None

    item_names = (
        [f.name for f in udf.arrow_type.value_type]
        if pa.types.is_list(udf.arrow_type) and pa.types.is_struct(udf.arrow_type.value_type)
        else None
    )

    def run(*values: Any) -> Any:
        values = tuple(list(v) if v is not None and not isinstance(v, str) else v for v in values)
        result = udf.rule(*values)
        if result is None:
            return result
        if names is not None:
            return tuple(result[name] for name in names)
        if item_names is not None:
            return [tuple(item[name] for name in item_names) for item in result]
        return result

    return run


def register_spark_udfs(spark: SparkSession) -> None:
    """Register every rule on the session under the name the dbt models call (idempotent)."""
    from pyspark.sql.functions import udf as spark_udf
    from pyspark.sql.pandas.types import from_arrow_type

    for udf in UDFS:
        spark.udf.register(
            udf.name,
            spark_udf(_row_function(udf), from_arrow_type(udf.arrow_type), useArrow=True),
        )
