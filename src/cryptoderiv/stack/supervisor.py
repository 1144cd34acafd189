"""A small supervisor for the local stack: ``up`` starts, ``status`` probes, ``down`` stops what ``up`` started.

Every service runs in its own session (so its process group id is its pid) with stdout and stderr in
``LOCAL_DIR/stack/logs/<name>.log``. ``up`` records each started process (pid, process group, kernel
start time, command, URL) in ``LOCAL_DIR/stack/pids.json`` as soon as it is spawned, then waits for the
health probes. ``down`` reads that file and stops exactly those process groups (SIGTERM, then SIGKILL
after the service's grace period), together with any descendant that left the group; a recorded pid
whose start time no longer matches (the pid was reused) is left alone. The PostgreSQL cluster is
stopped by ``down`` only when ``up`` started it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptoderiv.config import Settings
from cryptoderiv.errors import CryptoderivError
from cryptoderiv.stack.services import HealthProbe, ServiceSpec, build_services

log = logging.getLogger(__name__)

POSTGRESQL = "postgresql"


class StackError(CryptoderivError):
    """The stack's state file is unreadable or a service could not be handled."""


class ServiceState(StrEnum):
    HEALTHY = "healthy"
    STARTED = "started"  # spawned, not healthy yet (status only)
    UNHEALTHY = "unhealthy"
    FAILED = "failed"
    STOPPED = "stopped"
    UNAVAILABLE = "unavailable"
    EXTERNAL = "external"


@dataclass(frozen=True)
class ServiceReport:
    """One line of ``up``/``status``/``down`` output."""

    name: str
    url: str
    state: ServiceState
    detail: str = ""
    pid: int | None = None
    seconds: float | None = None


# -- processes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ProcStat:
    state: str
    ppid: int
    pgid: int
    start_time: int  # clock ticks since boot


def _proc_stat(pid: int) -> _ProcStat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces and parentheses
    return _ProcStat(state=fields[0], ppid=int(fields[1]), pgid=int(fields[2]), start_time=int(fields[19]))


def process_alive(pid: int, start_time: int | None = None) -> bool:
    """True for a live (non-zombie) process; with ``start_time``, only if it is still the same process."""
    stat = _proc_stat(pid)
    if stat is None or stat.state in {"Z", "X"}:
        return False
    return start_time is None or stat.start_time == start_time


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def process_tree(pid: int, pgid: int) -> set[int]:
    """Live members of process group ``pgid`` plus every live descendant of ``pid``."""
    stats = {p: s for p in _all_pids() if (s := _proc_stat(p)) is not None and s.state not in {"Z", "X"}}
    found = {p for p, s in stats.items() if s.pgid == pgid}
    if pid in stats:
        found.add(pid)
    frontier = set(found)
    while frontier:
        children = {p for p, s in stats.items() if s.ppid in frontier and p not in found}
        found |= children
        frontier = children
    return found


def _signal_all(pids: Iterable[int], pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_process_group(pid: int, pgid: int, grace: float) -> set[int]:
    """SIGTERM the group (and stray descendants), SIGKILL what is left after ``grace`` s.

    Returns the pids still alive afterwards (empty on success).
    """
    members = process_tree(pid, pgid)
    if not members:
        return set()
    _signal_all(members, pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        members = {p for p in members | process_tree(pid, pgid) if process_alive(p)}
        if not members:
            return set()
        time.sleep(0.2)
    log.warning("process group %d did not stop within %.0f s; killing %s", pgid, grace, sorted(members))
    _signal_all(members, pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        members = {p for p in members | process_tree(pid, pgid) if process_alive(p)}
        if not members:
            return set()
        time.sleep(0.1)
    return members


# -- probes -------------------------------------------------------------------------------------------
def probe(health: HealthProbe, timeout: float = 10.0) -> tuple[bool, str]:
    """One health probe: (healthy?, short reason)."""
    try:
        with urllib.request.urlopen(health.url, timeout=timeout) as answer:
            body = answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"no answer ({getattr(exc, 'reason', exc)})"
    if status != 200:
        return False, f"HTTP {status}"
    if health.check is not None:
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            return False, "answer is not JSON"
        if not health.check(parsed):
            return False, f"reports unhealthy: {body[:200].decode(errors='replace')}"
    return True, "ok"


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 with nothing listening now (all bound at once, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """One TCP port on 127.0.0.1 with nothing listening now."""
    return free_ports(1)[0]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except FileNotFoundError:
        return ""
    return " | ".join(line.strip()[:200] for line in tail)


# -- the supervisor -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Waiting:
    """A spawned (or adopted) service not yet healthy."""

    spec: ServiceSpec
    process: subprocess.Popen[bytes] | None  # None: started by an earlier `up`
    pid: int
    log_file: Path
    spawned: float  # time.monotonic()


class Stack:
    """``up``, ``status`` and ``down`` for the services of :func:`build_services` plus PostgreSQL."""

    def __init__(self, settings: Settings,
                 specs: Callable[[Settings, str, Path], list[ServiceSpec]] = build_services) -> None:
        self.settings = settings
        self._specs = specs
        self.state_dir = settings.local_dir / "stack"
        self.log_dir = self.state_dir / "logs"
        self.pids_file = self.state_dir / "pids.json"

    # state file
    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.pids_file.is_file():
            return {}
        try:
            data = json.loads(self.pids_file.read_text())
        except ValueError as exc:
            raise StackError(f"{self.pids_file} is not valid JSON: {exc}") from exc
        services = data.get("services", {})
        if not isinstance(services, dict):
            raise StackError(f"{self.pids_file}: 'services' must be an object")
        return services

    def _save(self, services: dict[str, dict[str, Any]]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not services:
            self.pids_file.unlink(missing_ok=True)
            return
        tmp = self.pids_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"local_dir": str(self.settings.local_dir), "services": services}, indent=2))
        tmp.replace(self.pids_file)

    def _database(self) -> tuple[str, ServiceReport, dict[str, Any] | None]:
        """Start the database if it is the local cluster; migrate. Returns (url, report, record or None)."""
        from cryptoderiv.storage.database import database_url, ensure_database
        from cryptoderiv.storage.local_cluster import LocalCluster
        from cryptoderiv.storage.migrations import migrate

        began = time.monotonic()
        if self.settings.database_url:
            url = ensure_database(self.settings)
            migrate(url, self.settings)
            return url, ServiceReport(POSTGRESQL, _redacted(url), ServiceState.EXTERNAL, "DATABASE_URL"), None
        cluster = LocalCluster(self.settings)
        started = cluster.start()
        url = database_url(self.settings)
        migrate(url, self.settings)
        status = cluster.status()
        where = f"postgresql://127.0.0.1:{self.settings.local_pg_port}"
        record = None
        if started and status.pid is not None:
            stat = _proc_stat(status.pid)
            record = {"pid": status.pid, "managed_by": "pg_ctl", "data_dir": str(status.data_dir),
                      "start_time": stat.start_time if stat else None, "url": where,
                      "started_at": datetime.now(UTC).isoformat()}
        detail = "started" if started else "already running (not started by this stack: down leaves it)"
        return url, ServiceReport(POSTGRESQL, where, ServiceState.HEALTHY, detail, status.pid,
                                  time.monotonic() - began), record

    def services(self, database_url: str | None = None) -> list[ServiceSpec]:
        """The service specs (the database URL is needed by the sidecar and the dashboard)."""
        from cryptoderiv.storage.database import database_url as platform_url

        if database_url is None:
            try:
                database_url = platform_url(self.settings)
            except CryptoderivError:  # local cluster not initialised: status still lists the services
                database_url = f"postgresql://127.0.0.1:{self.settings.local_pg_port}/{self.settings.local_pg_database}"
        return self._specs(self.settings, database_url, self.state_dir)

    def up(self, progress: Callable[[str], None] = lambda _: None) -> list[ServiceReport]:
        """Start every available service that is not running yet and wait until each is healthy.

        A service starts once the services it ``depends_on`` are healthy (or are not part of this
        stack); it fails without starting when one of them failed.
        """
        began = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        recorded = self._load()
        progress("PostgreSQL: starting and migrating")
        url, db_report, db_record = self._database()
        if db_record is not None:
            recorded[POSTGRESQL] = db_record
            self._save(recorded)
        reports: dict[str, ServiceReport] = {POSTGRESQL: db_report}
        specs = self.services(url)
        pending: list[ServiceSpec] = []
        for spec in specs:
            if spec.unavailable:
                reports[spec.name] = ServiceReport(spec.name, spec.url, ServiceState.UNAVAILABLE, spec.unavailable)
            else:
                pending.append(spec)
        in_stack = {spec.name for spec in pending}
        waiting: dict[str, _Waiting] = {}
        while pending or waiting:
            for spec in list(pending):
                deps = [d for d in spec.depends_on if d in in_stack]
                failed = [d for d in deps if d in reports and reports[d].state is not ServiceState.HEALTHY]
                if failed:
                    reports[spec.name] = ServiceReport(spec.name, spec.url, ServiceState.FAILED,
                                                       f"not started: {', '.join(failed)} did not come up")
                    pending.remove(spec)
                elif all(d in reports for d in deps):
                    pending.remove(spec)
                    started = self._start(spec, recorded, progress)
                    if isinstance(started, ServiceReport):
                        reports[spec.name] = started
                    else:
                        waiting[spec.name] = started
            for report in self._probe_waiting(waiting, recorded, began, progress):
                reports[report.name] = report
            if pending or waiting:
                time.sleep(0.5)
        order = [POSTGRESQL, *(s.name for s in specs)]
        return [reports[name] for name in order if name in reports]

    def _start(self, spec: ServiceSpec, recorded: dict[str, dict[str, Any]],
               progress: Callable[[str], None]) -> _Waiting | ServiceReport:
        """Spawn one service (or adopt the one this stack already runs); record it in pids.json at once."""
        entry = recorded.get(spec.name)
        if entry and process_alive(entry["pid"], entry.get("start_time")):
            progress(f"{spec.name}: already running (pid {entry['pid']})")
            return _Waiting(spec, None, int(entry["pid"]), Path(entry["log"]), time.monotonic())
        if port_in_use(spec.port):
            return ServiceReport(spec.name, spec.url, ServiceState.FAILED,
                                 f"port {spec.port} is already in use by a process this stack did not start "
                                 "(another stack? set its *_URL / *_PORT setting)")
        log_file = self.log_dir / f"{spec.name}.log"
        try:
            if spec.prepare is not None:
                spec.prepare()
            progress(f"{spec.name}: starting on {spec.url}")
            with log_file.open("ab") as out:
                out.write(f"\n=== {datetime.now(UTC).isoformat()} starting: {' '.join(spec.command)}\n".encode())
                out.flush()
                process = subprocess.Popen(spec.command, env=dict(spec.env), cwd=spec.cwd, stdout=out,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
        except (OSError, CryptoderivError) as exc:
            return ServiceReport(spec.name, spec.url, ServiceState.FAILED, str(exc))
        stat = _proc_stat(process.pid)
        recorded[spec.name] = {
            "pid": process.pid, "pgid": process.pid, "start_time": stat.start_time if stat else None,
            "command": list(spec.command), "url": spec.url, "health": spec.health.url, "log": str(log_file),
            "stop_timeout": spec.stop_timeout, "started_at": datetime.now(UTC).isoformat()}
        self._save(recorded)  # recorded before waiting: an interrupted up can still be brought down
        return _Waiting(spec, process, process.pid, log_file, time.monotonic())

    def _probe_waiting(self, waiting: dict[str, _Waiting], recorded: dict[str, dict[str, Any]], began: float,
                       progress: Callable[[str], None]) -> list[ServiceReport]:
        """One round of probes over the spawned services; returns the ones that reached a final state."""
        done: list[ServiceReport] = []
        for name, w in list(waiting.items()):
            healthy, reason = probe(w.spec.health)
            if healthy:
                seconds = time.monotonic() - began
                progress(f"{name}: healthy after {seconds:.1f} s")
                done.append(ServiceReport(name, w.spec.url, ServiceState.HEALTHY, "; ".join(w.spec.notes), w.pid,
                                          seconds))
            elif w.process is not None and w.process.poll() is not None:
                done.append(ServiceReport(name, w.spec.url, ServiceState.FAILED,
                                          f"exited with code {w.process.returncode}: {_log_tail(w.log_file)} "
                                          f"(log {w.log_file})", w.pid))
                recorded.pop(name, None)
                self._save(recorded)
            elif time.monotonic() - w.spawned > w.spec.ready_timeout:
                done.append(ServiceReport(name, w.spec.url, ServiceState.UNHEALTHY,
                                          f"not healthy after {w.spec.ready_timeout:.0f} s ({reason}); "
                                          f"still running, see {w.log_file}", w.pid))
            else:
                continue
            del waiting[name]
        return done

    def status(self) -> list[ServiceReport]:
        """Each service's URL and health, whether or not this stack started it."""
        from cryptoderiv.storage.local_cluster import LocalCluster

        recorded = self._load()
        reports = []
        if self.settings.database_url:
            reports.append(ServiceReport(POSTGRESQL, _redacted(self.settings.database_url), ServiceState.EXTERNAL,
                                         "DATABASE_URL"))
        else:
            st = LocalCluster(self.settings).status()
            where = f"postgresql://127.0.0.1:{self.settings.local_pg_port}"
            mine = POSTGRESQL in recorded
            state = ServiceState.HEALTHY if st.running else ServiceState.STOPPED
            reports.append(ServiceReport(POSTGRESQL, where, state,
                                         "" if mine or not st.running else "not started by this stack", st.pid))
        for spec in self.services():
            entry = recorded.get(spec.name)
            if spec.unavailable and entry is None:
                reports.append(ServiceReport(spec.name, spec.url, ServiceState.UNAVAILABLE, spec.unavailable))
                continue
            alive = entry is not None and process_alive(entry["pid"], entry.get("start_time"))
            healthy, reason = probe(spec.health)
            for _ in range(2 if alive else 0):  # a busy service on a loaded machine: ask twice more
                if healthy:
                    break
                time.sleep(1)
                healthy, reason = probe(spec.health)
            pid = entry["pid"] if alive and entry else None
            if healthy:
                detail = "; ".join(spec.notes) if entry else "answering, but not started by this stack"
                reports.append(ServiceReport(spec.name, spec.url, ServiceState.HEALTHY, detail, pid))
            elif alive:
                reports.append(ServiceReport(spec.name, spec.url, ServiceState.UNHEALTHY, reason, pid))
            else:
                reports.append(ServiceReport(spec.name, spec.url, ServiceState.STOPPED,
                                             "exited unexpectedly" if entry else ""))
        return reports

    def down(self, progress: Callable[[str], None] = lambda _: None) -> list[ServiceReport]:
        """Stop exactly what ``up`` recorded: every service's process group at once, then PostgreSQL."""
        from concurrent.futures import ThreadPoolExecutor

        recorded = self._load()
        names = [n for n in reversed(list(recorded)) if n != POSTGRESQL]
        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            reports = list(pool.map(lambda name: self._stop_service(name, recorded[name], progress), names))
        if POSTGRESQL in recorded:
            reports.append(self._stop_database(recorded[POSTGRESQL], progress))
        for report in reports:
            if report.state is not ServiceState.FAILED:
                recorded.pop(report.name, None)
        self._save(recorded)
        return reports

    def _stop_service(self, name: str, entry: dict[str, Any], progress: Callable[[str], None]) -> ServiceReport:
        pid = int(entry["pid"])
        if not process_alive(pid, entry.get("start_time")):
            return ServiceReport(name, entry.get("url", ""), ServiceState.STOPPED, "was not running", pid)
        pgid = int(entry.get("pgid", pid))
        progress(f"{name}: stopping process group {pgid}")
        left = stop_process_group(pid, pgid, float(entry.get("stop_timeout", 15)))
        if left:
            return ServiceReport(name, entry.get("url", ""), ServiceState.FAILED, f"pids still alive: {sorted(left)}",
                                 pid)
        return ServiceReport(name, entry.get("url", ""), ServiceState.STOPPED, "", pid)

    def _stop_database(self, entry: dict[str, Any], progress: Callable[[str], None]) -> ServiceReport:
        from cryptoderiv.storage.local_cluster import LocalCluster

        pid = int(entry["pid"])
        cluster = LocalCluster(self.settings)
        if not process_alive(pid, entry.get("start_time")) or cluster.status().pid != pid:
            return ServiceReport(POSTGRESQL, entry.get("url", ""), ServiceState.STOPPED,
                                 "was not running (or restarted by someone else: left alone)", pid)
        progress("postgresql: pg_ctl stop")
        cluster.stop()
        return ServiceReport(POSTGRESQL, entry.get("url", ""), ServiceState.STOPPED, "", pid)

    def recorded(self) -> dict[str, dict[str, Any]]:
        """The content of ``pids.json`` (service -> pid, pgid, start time, command, URL, log)."""
        return self._load()


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 5432}{parts.path}"
