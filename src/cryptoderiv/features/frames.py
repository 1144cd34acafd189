"""Output schemas of the feature transforms: logical column types and the matching empty frames."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

# Logical type -> pandas dtype. Spark maps the same names to its own types (features.spark.schema); an
# empty result must carry them too, or Arrow cannot cast it (a float64 "timestamp" column fails).
PANDAS_DTYPES: Mapping[str, str] = {
    "string": "object", "timestamp": "datetime64[ns, UTC]", "int": "int64", "double": "float64",
}


def empty_frame(schema: Mapping[str, str]) -> pd.DataFrame:
    """A frame with no rows and the schema's columns, each of its proper dtype."""
    return pd.DataFrame({column: pd.Series(dtype=PANDAS_DTYPES[kind]) for column, kind in schema.items()})
