"""A throwaway PostgreSQL + PostGIS cluster for the database tests.

:func:`start` runs ``initdb`` in a fresh temporary folder, starts the server on a free port of
127.0.0.1 (its unix socket stays in that folder), creates a database with PostGIS and returns
a :class:`Cluster`; :meth:`Cluster.stop` stops it and removes the folder. PostgreSQL refuses
to run as root, so under root the server runs as the unprivileged user ``nobody`` (through
``runuser``), in a folder it owns. Without the binaries or the PostGIS extension,
:func:`missing` says why; the tests skip with that reason, or fail when ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Debian's layout first, then whatever is on PATH
PG_BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13)]
SUPERUSER = "pp_admin"
SUPERUSER_PASSWORD = "s3cret-admin"  # only ever on 127.0.0.1 of a throwaway cluster
DATABASE = "patrolplan_test"


def _bin_dir() -> Path | None:
    for d in PG_BIN_DIRS:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _sharedir(bin_dir: Path) -> Path | None:
    pg_config = bin_dir / "pg_config"
    exe = str(pg_config) if pg_config.is_file() else shutil.which("pg_config")
    # Debian keeps each major version's extensions in /usr/share/postgresql/<major>
    fallback = Path("/usr/share/postgresql") / bin_dir.parent.name
    if exe is None:
        return fallback
    out = subprocess.run([exe, "--sharedir"], capture_output=True, text=True, check=False)
    return Path(out.stdout.strip()) if out.returncode == 0 else fallback


def missing() -> str | None:
    """Return why a PostGIS cluster cannot be started here, or None when it can."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found"
    share = _sharedir(bin_dir)
    if share is None or not (share / "extension" / "postgis.control").is_file():
        return (
            f"PostGIS extension not installed for {bin_dir} (apt install postgresql-15-postgis-3)"
        )
    if os.geteuid() == 0 and _runuser() is None:
        return "running as root and runuser is missing: PostgreSQL refuses to run as root"
    return None


def in_ci() -> bool:
    """Tell whether the tests run under CI (``CI`` set to anything but empty/0/false/no)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def require() -> None:
    """Skip the calling test when no cluster can start here, or fail it under CI."""
    import pytest

    reason = missing()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"CI needs PostgreSQL + PostGIS: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running throwaway server."""

    root: Path
    bin_dir: Path
    port: int
    user: str | None  # the system user the server runs as under root, else None

    host = "127.0.0.1"

    def url(
        self,
        user: str = SUPERUSER,
        password: str | None = SUPERUSER_PASSWORD,
        database: str = DATABASE,
        query: str = "",
    ) -> str:
        """Return a ``postgresql://`` URL of this server."""
        auth = user if password is None else f"{user}:{password}"
        tail = f"?{query}" if query else ""
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}{tail}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user is not None:
            cmd = [_runuser() or "runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(
            cmd, capture_output=True, text=True, check=False, cwd=self.root, timeout=120
        )

    def psql(self, sql: str, database: str = DATABASE) -> str:
        """Run `sql` as the superuser over the unix socket; return its output."""
        out = self._run(
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.root / "sock"),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-At",
            "-c",
            sql,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop"
            )
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    """Create, start and return a throwaway cluster with a PostGIS database."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, missing()
    user: str | None = None
    # under root the server's user must reach the folder: /tmp is open to all, $TMPDIR may not be
    tmp = "/tmp" if os.geteuid() == 0 and Path("/tmp").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="patrolplan-pg-", dir=tmp))
    if os.geteuid() == 0:
        user = "nobody"
        entry = pwd.getpwnam(user)
        # the folder is private to the server's user; /tmp itself is world-traversable
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o700)
    cluster = Cluster(root=root, bin_dir=bin_dir, port=_free_port(), user=user)
    try:
        pwfile = root / "pw"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        (root / "sock").mkdir()
        if user is not None:
            entry = pwd.getpwnam(user)
            for p in (pwfile, root / "sock"):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        init = cluster._run(
            str(bin_dir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root / 'sock'} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c log_min_messages=warning"
        )
        started = cluster._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(root / "data"),
            "-o",
            opts,
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if started.returncode != 0:
            log = (root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {log}")
        cluster.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        cluster.psql("CREATE EXTENSION postgis")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _runuser() -> str | None:
    """Find util-linux's runuser, also where a PATH without the sbin folders would miss it."""
    for found in (shutil.which("runuser"), "/usr/sbin/runuser", "/sbin/runuser"):
        if found and os.access(found, os.X_OK):
            return found
    return None
