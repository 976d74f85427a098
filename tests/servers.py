"""Throw-away PostgreSQL and NATS servers for fault tests and benches: each on its own port and
data folder, stopped (gently or by a crash) and started again on the same data, never the
shared servers on 5432 and 4222.

Used by ``tests/integration/test_fault_restarts.py`` and ``bench/fault_restarts.py``.

Example:
    >>> with NatsServer.started() as nats:          # doctest: +SKIP
    ...     nats.restart(signal.SIGKILL)
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.path.dirname(shutil.which("initdb") or "/usr/lib/postgresql/15/bin/initdb"))


class ServerMissingError(RuntimeError):
    """The server's binary (or the user to run it as) is not on this machine."""


def missing() -> str | None:
    """Why throw-away servers cannot be run here (None: they can)."""
    if shutil.which("nats-server") is None:
        return "nats-server is not installed"
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL's initdb is not in {PG_BIN}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
    return None


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, *, up: bool, timeout: float = 30.0) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (``up``) or refuses them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout:g} s")


class NatsServer:
    """``nats-server -js`` on a free port with its store in a temporary folder."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        binary = shutil.which("nats-server")
        if binary is None:
            raise ServerMissingError("nats-server is not installed")
        self.binary = binary
        self.root = root
        self.port = port or free_port()
        self.store = root / "jetstream"
        self.log = root / "nats.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start on the same port and store folder as before (a restart keeps the streams)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-js", "-sd", str(self.store), "-a", "127.0.0.1",
                 "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_port(self.port, up=True)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: a clean shut-down; SIGKILL: a crash."""
        if self.process is None:
            return
        self.process.send_signal(how)
        self.process.wait(30)
        self.process = None
        wait_port(self.port, up=False)

    def restart(self, how: signal.Signals = signal.SIGTERM, *, down_s: float = 0.0) -> None:
        """Stop (``how``), stay down ``down_s`` seconds, start again."""
        self.stop(how)
        time.sleep(down_s)
        self.start()

    @classmethod
    @contextmanager
    def started(cls) -> Iterator[NatsServer]:
        """A running server, stopped and deleted at the end."""
        root = Path(tempfile.mkdtemp(prefix="kupol-nats-"))
        server = cls(root)
        try:
            server.start()
            yield server
        finally:
            server.stop(signal.SIGKILL)
            shutil.rmtree(root, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL 15 cluster of its own (``initdb`` + ``pg_ctl``) on a free port, fsync on,
    its socket in its own folder. Run as the ``postgres`` user when this process is root
    (``initdb`` refuses root)."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        if not (PG_BIN / "initdb").exists():
            raise ServerMissingError(f"PostgreSQL's initdb is not in {PG_BIN}")
        self.root = root
        self.port = port or free_port()
        self.data = root / "data"
        self.log = root / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServerMissingError("running as root and there is no postgres user") from None
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres", "postgres")

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as, *command], check=check, capture_output=True, text=True, timeout=120
        )

    def init(self) -> None:
        """Create the cluster (trust on loopback; fsync stays on, as in production)."""
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-instructions")  # fmt: skip

    def start(self) -> None:
        """Start the cluster and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on "
                   "-c max_connections=100")  # fmt: skip
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients cut off, a clean shut-down; ``immediate``: a crash (recovery from
        the WAL at the next start)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                  "stop", check=False)  # fmt: skip

    def restart(self, mode: str = "fast", *, down_s: float = 0.0) -> None:
        """Stop (``mode``), stay down ``down_s`` seconds, start again."""
        self.stop(mode)
        time.sleep(down_s)
        self.start()

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its URL."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    @classmethod
    @contextmanager
    def started(cls) -> Iterator[PostgresServer]:
        """A running cluster, stopped and deleted at the end."""
        root = Path(tempfile.mkdtemp(prefix="kupol-pg-"))
        server = cls(root)
        try:
            server.init()
            server.start()
            yield server
        finally:
            server.stop("immediate")
            shutil.rmtree(root, ignore_errors=True)
