"""The project-managed PostgreSQL cluster used when ``DATABASE_URL`` is not set.

Debian's PostgreSQL server binaries run the cluster under ``LOCAL_DIR/pg`` (git-ignored), listening on
127.0.0.1 only (TCP, so Spark's JDBC driver can reach it) on a non-default port. PostgreSQL refuses to
run as root, so when the platform runs as root the server runs as an unprivileged OS account
(``LOCAL_PG_OS_USER``, Debian's ``postgres`` by default). Host connections use scram-sha-256 with a
password generated at ``initdb`` time and kept in a mode-0600 file beside the data directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptoderiv.config import Settings
from cryptoderiv.errors import DatabaseError

log = logging.getLogger(__name__)

PG_BIN_CANDIDATES = tuple(Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15))


def find_pg_bin() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl`` (Debian's server package)."""
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "pg_ctl").is_file():
            return candidate
    raise DatabaseError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
        "install Debian's 'postgresql' package (make setup does it)"
    )


@dataclass(frozen=True)
class ClusterStatus:
    """What ``cryptoderiv db status`` reports."""

    initialised: bool
    running: bool
    port: int
    data_dir: Path
    pid: int | None


class LocalCluster:
    """Start, stop and describe the local cluster. Every operation is idempotent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = self._data_root()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.password_file = settings.local_dir / "pg_password"
        self.socket_dir = self.root / "run"

    # -- helpers -----------------------------------------------------------------------------
    def _data_root(self) -> Path:
        """``LOCAL_DIR/pg``, unless the server's OS account cannot reach it (a checkout under a
        private home such as /root): then a folder of its own under /var/lib/cryptoderiv."""
        preferred = self.settings.pg_dir
        user = self._os_user()
        if not user:
            return preferred
        probe = preferred
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        reachable = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(probe)],
                                   capture_output=True, check=False).returncode == 0
        if reachable:
            return preferred
        digest = hashlib.sha256(str(preferred.resolve()).encode()).hexdigest()[:12]
        fallback = Path("/var/lib/cryptoderiv") / digest / "pg"
        log.info("%s is not reachable by %s; the cluster lives in %s", preferred, user, fallback)
        return fallback

    def _os_user(self) -> str | None:
        """The account to run the server as, or None to run as ourselves (not root)."""
        return self.settings.local_pg_os_user if os.geteuid() == 0 else None

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._os_user()
        cmd = ["runuser", "-u", user, "--", *args] if user else args
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise DatabaseError(f"{Path(args[0]).name} failed: {detail[-1] if detail else result.returncode}")
        return result

    def _chown(self, path: Path) -> None:
        user = self._os_user()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    @property
    def password(self) -> str:
        if not self.password_file.is_file():
            raise DatabaseError(
                f"local cluster not initialised ({self.password_file} missing): run 'cryptoderiv db start'")
        return self.password_file.read_text().strip()

    def url(self, database: str | None = None) -> str:
        """libpq URL of the local cluster (TCP on 127.0.0.1)."""
        s = self.settings
        return (
            f"postgresql://{quote(s.local_pg_user)}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{s.local_pg_port}/{quote(database or s.local_pg_database)}"
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def initialise(self) -> bool:
        """``initdb`` the cluster if it does not exist yet. Returns True when it was created."""
        if (self.data_dir / "PG_VERSION").is_file():
            return False
        if self._os_user():
            try:
                pwd.getpwnam(self._os_user() or "")
            except KeyError as exc:
                raise DatabaseError(f"OS user {self._os_user()!r} for the local cluster does not exist") from exc
        bin_dir = find_pg_bin()
        self.settings.local_dir.mkdir(parents=True, exist_ok=True)
        if self.root.exists():
            shutil.rmtree(self.root)  # a half-made cluster from an interrupted initdb
        self.root.parent.mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            self._chown(d)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.root / ".initdb_pw"
        pwfile.write_text(password + "\n")
        self._chown(pwfile)
        try:
            log.info("initialising local PostgreSQL cluster in %s", self.data_dir)
            self._run([
                str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.settings.local_pg_user,
                f"--pwfile={pwfile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# cryptoderiv local cluster\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.settings.local_pg_port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "timezone = 'UTC'\nlog_timezone = 'UTC'\n"
                "shared_buffers = '512MB'\nwork_mem = '64MB'\nmaintenance_work_mem = '256MB'\n"
                "max_wal_size = '4GB'\nsynchronous_commit = off\nmax_connections = 200\n"
            )
        return True

    def status(self) -> ClusterStatus:
        pid_file = self.data_dir / "postmaster.pid"
        pid = None
        running = False
        if pid_file.is_file():
            try:
                pid = int(pid_file.read_text().splitlines()[0])
                os.kill(pid, 0)
                running = True
            except (ValueError, IndexError, ProcessLookupError, PermissionError):
                running = False
        return ClusterStatus(
            initialised=(self.data_dir / "PG_VERSION").is_file(),
            running=running,
            port=self.settings.local_pg_port,
            data_dir=self.data_dir,
            pid=pid if running else None,
        )

    def start(self) -> bool:
        """Initialise if needed and start the server. Returns True when it was started now."""
        self.initialise()
        if self.status().running:
            return False
        bin_dir = find_pg_bin()
        log.info("starting local PostgreSQL on 127.0.0.1:%d", self.settings.local_pg_port)
        self.log_file.touch(exist_ok=True)
        self._chown(self.log_file)
        result = self._run(
            [str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "start"],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text().strip().splitlines()[-3:] if self.log_file.exists() else []
            raise DatabaseError(f"local PostgreSQL did not start: {' | '.join(tail) or result.stderr.strip()}")
        self._wait_ready()
        self._ensure_database()
        return True

    def _wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg  # local import: the CLI's 'status' must not need a driver

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"local PostgreSQL not accepting connections: {exc}") from exc
                time.sleep(0.2)

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        name = self.settings.local_pg_database
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns True when it was running."""
        if not self.status().running:
            return False
        self._run([str(find_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True
