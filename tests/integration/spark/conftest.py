"""One local[2] SparkSession for every Spark test of the run (session start costs 10-15 s)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    import os

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from cryptoderiv.features.spark.session import build_session

    session = build_session("cryptoderiv-tests", "local[2]", shuffle_partitions=2)
    yield session
    session.stop()
    # py4j logs from __del__ at interpreter exit, after pytest has closed its streams: keep it quiet.
    logging.getLogger("py4j").setLevel(logging.WARNING)
