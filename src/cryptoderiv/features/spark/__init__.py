"""Spark transforms: the only package of the library that imports pyspark.

* :mod:`.session` builds the SparkSession (master, JDBC driver, Python of the virtualenv, UTC, Arrow);
* :mod:`.jdbc` reads a table's time window over JDBC and writes a window back idempotently;
* :mod:`.option_greeks`, :mod:`.vol_surface`, :mod:`.market_features` wrap the pandas twins of
  :mod:`cryptoderiv.features` for Spark (``mapInPandas`` / ``applyInPandas``);
* :mod:`.packaging` zips the library for ``--py-files``.
"""
