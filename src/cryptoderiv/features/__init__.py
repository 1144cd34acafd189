"""Features computed from the published market tables.

Each ``cryptoderiv.features.<name>`` module is a plain pandas implementation (the *twin*);
:mod:`cryptoderiv.features.spark` wraps the same functions for Spark (the only package allowed to import
pyspark), so the Spark output can be checked against the pandas path on the same input.
"""
