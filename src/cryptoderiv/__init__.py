"""cryptoderiv: data and analytics platform for crypto spot, futures and options markets.

The library layer: no Airflow imports anywhere; only ``cryptoderiv.features.spark`` imports PySpark.
"""

__version__ = "0.1.0"
