"""Spark transforms (the only module allowed to import pyspark)."""
