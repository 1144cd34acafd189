"""The installed environment is the one the lock promises."""

from __future__ import annotations

import importlib.metadata as md
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_pyspark_python_files_match_its_jars() -> None:
    """pyspark-client installs into pyspark/ too; a version skew breaks every Python UDF (PITFALLS)."""
    pyspark = pytest.importorskip("pyspark")
    jars = list((Path(pyspark.__file__).parent / "jars").glob("spark-core_*.jar"))
    assert jars, "pyspark ships no spark-core jar"
    jar_version = re.search(r"spark-core_[\d.]+-(\d+\.\d+\.\d+)\.jar", jars[0].name)
    assert jar_version is not None
    assert pyspark.__version__ == jar_version.group(1) == md.version("pyspark-client")


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", (ROOT / "requirements.txt").read_text(), re.M))
    assert len(pins) > 100
    wrong = {}
    for name, version in pins.items():
        try:
            installed = md.version(name)
        except md.PackageNotFoundError:
            wrong[name] = (version, None)
            continue
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed packages differ from requirements.txt: {wrong}"
