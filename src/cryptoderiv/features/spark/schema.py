"""Spark schemas from the pandas twins' logical output schemas."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

_TYPES: dict[str, DataType] = {
    "int": IntegerType(), "long": LongType(), "double": DoubleType(), "string": StringType(),
    "timestamp": TimestampType(), "bool": BooleanType(),
}


def struct_type(logical: Mapping[str, str]) -> StructType:
    """``StructType`` of a ``{column: logical type}`` mapping (``int``, ``long``, ``double``, ``string``,
    ``timestamp``, ``bool``), every field nullable."""
    return StructType([StructField(name, _TYPES[kind], True) for name, kind in logical.items()])
