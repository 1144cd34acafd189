"""A small Dockerfile linter for this project's images (hadolint cannot be downloaded here).

Rules (hadolint's numbers in brackets where one exists):

- ``pinned-base``: every ``FROM`` names an explicit version tag or digest, never ``latest`` [DL3006, DL3007];
- ``non-root``: the final stage switches to a non-root ``USER`` [DL3002];
- ``no-add``: ``COPY`` instead of ``ADD`` (no URLs, no implicit unpacking) [DL3020];
- ``no-secrets``: no ``ENV``/``ARG`` with a secret-looking name and a literal value;
- ``apt``: ``apt-get install`` with ``-y --no-install-recommends`` and the lists removed [DL3014, DL3015, DL3009];
- ``pip``: ``pip install`` with ``--no-cache-dir`` [DL3042];
- ``no-cd``: ``WORKDIR`` instead of ``cd`` [DL3003];
- ``exec-cmd``: ``CMD``/``ENTRYPOINT`` in JSON (exec) form [DL3025].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY)", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined (comments and blank lines skipped)."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        joined = " ".join(part for part in buffer if part)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        buffer = []
    return out


def _from_image(args: str) -> tuple[str, str | None]:
    parts = [p for p in args.split() if not p.startswith("--platform")]
    image = parts[0]
    alias = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
    return image, alias


def _key_values(args: str) -> list[tuple[str, str]]:
    """``ENV A=1 B="x y"`` / ``ENV A 1`` / ``ARG A=1`` as (name, value) pairs."""
    if "=" not in args.split(" ", 1)[0]:
        name, _, value = args.partition(" ")
        return [(name, value.strip())]
    return [(m.group(1), m.group(2)) for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)', args)]


def lint(text: str) -> list[Finding]:
    findings: list[Finding] = []
    instructions = parse(text)
    stages: set[str] = set()
    last_from = -1
    for index, ins in enumerate(instructions):
        if ins.keyword == "FROM":
            image, alias = _from_image(ins.args)
            last_from = index
            if image.lower() not in stages and image != "scratch":
                name = image.rsplit("/", 1)[-1]
                if "@sha256:" not in image and (":" not in name or name.endswith(":latest")):
                    findings.append(Finding("pinned-base", ins.line, f"base image {image!r} is not pinned"))
            if alias:
                stages.add(alias.lower())
        elif ins.keyword == "ADD":
            findings.append(Finding("no-add", ins.line, "use COPY (ADD fetches URLs and unpacks archives)"))
        elif ins.keyword in {"ENV", "ARG"}:
            for name, value in _key_values(ins.args):
                if SECRET_NAME.search(name) and value.strip('"'):
                    findings.append(Finding("no-secrets", ins.line, f"{ins.keyword} {name} has a literal value"))
        elif ins.keyword == "RUN":
            commands = re.split(r"&&|;|\|\|", ins.args)
            for command in commands:
                words = command.split()
                if "apt-get" in words and "install" in words:
                    if "-y" not in words or "--no-install-recommends" not in words:
                        findings.append(Finding("apt", ins.line, "apt-get install needs -y --no-install-recommends"))
                    if "/var/lib/apt/lists/*" not in ins.args:
                        findings.append(Finding("apt", ins.line, "remove /var/lib/apt/lists/* in the same RUN"))
                if "pip" in words and "install" in words and "--no-cache-dir" not in words:
                    findings.append(Finding("pip", ins.line, "pip install needs --no-cache-dir"))
                if words[:1] == ["cd"]:
                    findings.append(Finding("no-cd", ins.line, "use WORKDIR instead of cd"))
        elif ins.keyword in {"CMD", "ENTRYPOINT"} and not ins.args.startswith("["):
            findings.append(Finding("exec-cmd", ins.line, f"{ins.keyword} in shell form; use the JSON form"))
    final_users = [ins for ins in instructions[last_from + 1:] if ins.keyword == "USER"]
    if not final_users or final_users[-1].args.split(":")[0] in {"root", "0"}:
        line = instructions[last_from].line if instructions else 0
        findings.append(Finding("non-root", line, "the final stage must switch to a non-root USER"))
    return findings


def has_healthcheck(text: str) -> bool:
    return any(ins.keyword == "HEALTHCHECK" and not ins.args.upper().startswith("NONE") for ins in parse(text))


def lint_file(path: Path) -> list[Finding]:
    return lint(path.read_text())
