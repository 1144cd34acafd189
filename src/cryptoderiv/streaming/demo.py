"""The ``make demo`` hook: run the sidecar for a short window and report what it received and wrote."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from cryptoderiv.config import PROJECT_ROOT
from cryptoderiv.streaming.service import Sidecar, SidecarSummary
from cryptoderiv.streaming.subscriptions import load_config

DEFAULT_CONFIG = PROJECT_ROOT / "streaming" / "subscriptions.yaml"


def demo_stream(seconds: float = 15.0, *, config_path: str | Path = DEFAULT_CONFIG, database_url: str | None = None,
                simulator_url: str | None = None, port: int = 0) -> SidecarSummary:
    """Run the sidecar for ``seconds`` against the simulator and the database; the counts.

    Parameters
    ----------
    seconds : float
        How long to stream.
    config_path : str or Path
        Subscriptions file (default ``streaming/subscriptions.yaml``).
    database_url, simulator_url : str, optional
        Default to the settings (``DATABASE_URL`` / local cluster, ``SIMULATOR_URL``).
    port : int, default 0
        Port of the sidecar's HTTP/WebSocket server (0: a free one, so it never clashes with ``make up``).

    Returns
    -------
    SidecarSummary
        ``ticks_received``, ``ticks_written``, ``trades_received``, ``trades_written``, ...

    Notes
    -----
    The instrument catalog must be synced first (rows of unknown instruments are dropped and counted). The
    run uses its own spool directory, so it never replays a long-running sidecar's spool.
    """
    config = load_config(config_path)
    with tempfile.TemporaryDirectory(prefix="cryptoderiv-stream-demo-") as spool:
        sidecar = Sidecar(config, database_url=database_url, simulator_url=simulator_url, source="simulator",
                          port=port, spool_dir=Path(spool))
        return asyncio.run(sidecar.run(seconds))
