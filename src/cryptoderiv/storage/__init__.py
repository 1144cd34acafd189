"""Storage: where the data lives, the schema, and idempotent all-or-nothing writes.

- :mod:`~cryptoderiv.storage.database`: which database, connections;
- :mod:`~cryptoderiv.storage.local_cluster`: the project-managed PostgreSQL when ``DATABASE_URL`` is unset;
- :mod:`~cryptoderiv.storage.migrations`: ``sql/migrations`` applied once each;
- :mod:`~cryptoderiv.storage.writer`: :func:`write_frame`, binary COPY + upsert with contract checks;
- :mod:`~cryptoderiv.storage.rollups`: refresh of the 1h/1d bars.
"""

from cryptoderiv.storage.writer import WriteResult, write_frame

__all__ = ["WriteResult", "write_frame"]
