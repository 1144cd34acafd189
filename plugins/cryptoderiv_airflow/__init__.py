"""The Airflow layer: hooks on the provider hooks, thin operators, Asset definitions, the failure notifier.

Everything testable without a scheduler lives in the ``cryptoderiv`` library; this package only adapts it.
"""
