"""``cryptoderiv stream``: the live-tick streaming sidecar.

Example::

    cryptoderiv stream run --config streaming/subscriptions.yaml            # until Ctrl-C
    cryptoderiv stream run --config streaming/subscriptions.yaml --duration 30
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The streaming sidecar: live ticks, WebSocket fan-out, alerts.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="Subscriptions YAML.")] = Path(
        "streaming/subscriptions.yaml"),
    duration: Annotated[float | None, typer.Option("--duration", min=0.0,
                                                   help="Seconds to run (default: until Ctrl-C).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Interface (default STREAM_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=0, max=65535, help="Port (default STREAM_PORT).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
    text_logs: Annotated[bool, typer.Option("--text-logs", help="key=value logs instead of JSON lines.")] = False,
) -> None:
    """Run the sidecar; prints a summary when it stops."""
    from cryptoderiv.streaming.logs import configure_logging
    from cryptoderiv.streaming.service import Sidecar
    from cryptoderiv.streaming.subscriptions import load_config

    configure_logging(log_level, json=not text_logs)
    sidecar = Sidecar(load_config(config), host=host, port=port)

    async def main() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await sidecar.run(duration)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    s = sidecar.summary(0.0)
    typer.echo(f"ticks received {s.ticks_received}, written {s.ticks_written}; trades received "
               f"{s.trades_received}, written {s.trades_written}; spooled rows {s.rows_spooled} "
               f"({s.spool_files_left} batches left); reconnects {s.reconnects}; alerts {s.alerts_fired}")
