"""``cryptoderiv simulator``: run the local exchange simulator (Deribit, Binance, Bybit).

Example::

    cryptoderiv simulator serve --port 8765 --seed 7 --faults "rate=0.2,kinds=429,5xx;ws_drop_every=50"

Clients reach a venue by keeping its host in the path, e.g. ``http://127.0.0.1:8765/fapi.binance.com/fapi/v1/klines``
(see :func:`cryptoderiv.exchanges.make_client`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.faults import FaultConfig

app = typer.Typer(
    help="Run the local exchange simulator (Deribit, Binance, Bybit over REST and WebSocket).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated market.")] = 7,
    faults: Annotated[
        str,
        typer.Option(
            "--faults",
            help="Fault spec, e.g. 'rate=0.2,kinds=429,5xx,timeout,malformed;ws_drop_every=50' "
            "(kinds: 429, 5xx, timeout, slow, malformed, truncated, missing_field).",
        ),
    ] = "",
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Deribit option-chain snapshot (.csv or .csv.gz) to serve as Deribit's chain."),
    ] = None,
    bad_data: Annotated[
        str,
        typer.Option("--bad-data", help="Bad-data mode: 'all' or defects, e.g. 'crossed_book,stale_quote' "
                     "(see cryptoderiv.simulator.bad_data)."),
    ] = "",
    log_level: Annotated[str, typer.Option("--log-level", help="Logging level.")] = "INFO",
) -> None:
    """Serve the simulator in the foreground until Ctrl-C."""
    from cryptoderiv.simulator.bad_data import BadData
    from cryptoderiv.simulator.server import SimulatorServer

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = FaultConfig.parse(faults)
    if replay is not None and not replay.is_file():
        raise SimulatorError(f"replay file not found: {replay}")
    server = SimulatorServer(seed=seed, faults=config, host=host, port=port, replay=replay,
                             bad_data=BadData.parse(bad_data, seed))
    details = [f"seed {seed}"]
    if bad_data:
        details.append(f"bad data {bad_data}")
    if config.active:
        details.append(f"faults {faults}")
    if replay is not None:
        details.append(f"replaying {replay.name}")
    server.serve_forever(on_ready=lambda url: typer.echo(f"exchange simulator on {url} ({', '.join(details)})"))


@app.command("check-faults")
def check_faults(spec: Annotated[str, typer.Argument(help="Fault spec to validate.")]) -> None:
    """Parse a fault spec and print what it means."""
    config = FaultConfig.parse(spec)
    typer.echo(
        f"rate={config.rate} kinds={','.join(config.kinds)} ws_drop_every={config.ws_drop_every} seed={config.seed} "
        f"slow_ms={config.slow_ms} timeout_s={config.timeout_s} retry_after={config.retry_after}"
    )
