"""The project's Dockerfiles pass the project's Dockerfile rules; the rules catch what they claim to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.ops.dockerfile_lint import has_healthcheck, lint, lint_file

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))


def test_the_images_the_issue_asks_for_exist() -> None:
    assert {p.parent.name for p in DOCKERFILES} >= {"airflow", "sidecar", "dashboard"}


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_passes_lint(path: Path) -> None:
    assert lint_file(path) == []
    assert has_healthcheck(path.read_text()), f"{path} has no HEALTHCHECK"


def test_airflow_image_is_the_official_one_at_the_pinned_version() -> None:
    text = (ROOT / "docker" / "airflow" / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in text
    assert '"apache-airflow==3.3.2" -c /tmp/requirements.txt' in text


def test_dashboard_image_is_multi_stage_and_non_root() -> None:
    text = (ROOT / "docker" / "dashboard" / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "USER node" in text


BAD = """\
FROM python:latest
FROM node AS build
ENV DB_PASSWORD=hunter2 OTHER=1
ARG API_TOKEN
ADD https://example.com/x.tgz /opt/
RUN apt-get update && apt-get install curl
RUN pip install requests && cd /opt && make
CMD python app.py
"""


def test_rules_catch_each_problem() -> None:
    found = {(f.rule, f.line) for f in lint(BAD)}
    assert found == {
        ("pinned-base", 1), ("pinned-base", 2), ("no-secrets", 3), ("no-add", 5), ("apt", 6),
        ("pip", 7), ("no-cd", 7), ("exec-cmd", 8), ("non-root", 2),
    }
    # ARG without a default is how a secret is passed at build time: allowed.
    assert not any(f.rule == "no-secrets" and f.line == 4 for f in lint(BAD))


def test_continuations_comments_and_stage_references() -> None:
    good = """\
# syntax=docker/dockerfile:1
FROM python:3.11.14-slim-bookworm AS wheel
RUN apt-get update \\
    # a comment inside a continuation
    && apt-get install -y --no-install-recommends git \\
    && rm -rf /var/lib/apt/lists/*
FROM wheel
USER 10001:10001
CMD ["python"]
"""
    assert lint(good) == []
    assert [f.rule for f in lint(good.replace("USER 10001:10001", "USER root"))] == ["non-root"]
