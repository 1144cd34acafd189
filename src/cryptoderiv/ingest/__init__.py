"""Ingestion: exchange data into the published tables.

- :mod:`~cryptoderiv.ingest.landing`: the raw responses of a run, landed as Parquet (replay, lineage);
- :mod:`~cryptoderiv.ingest.catalog`: the instrument catalog sync (listings, expiries, delistings);
- :mod:`~cryptoderiv.ingest.runs`: one lineage row per run in ``ingest_runs``.
"""
