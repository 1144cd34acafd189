"""The ``cryptoderiv simulator`` command group."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cryptoderiv.cli.simulator import app
from cryptoderiv.errors import CryptoderivError


def test_check_faults_explains_a_spec():
    result = CliRunner().invoke(app, ["check-faults", "rate=0.2,kinds=429,5xx;ws_drop_every=50"])
    assert result.exit_code == 0
    assert "rate=0.2 kinds=429,5xx ws_drop_every=50" in result.stdout


@pytest.mark.parametrize("args", [["serve", "--faults", "rate=7"], ["serve", "--replay", "/nonexistent.csv.gz"]])
def test_bad_serve_arguments_raise_library_errors(args):
    # the top-level `cryptoderiv` entry point prints CryptoderivError as one line and exits 1
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, CryptoderivError)
