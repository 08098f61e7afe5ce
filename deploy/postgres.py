"""A throwaway local PostgreSQL cluster (Debian's server binaries) for tests and for trying the stack on it.

python -m deploy.postgres start|stop|url   (initdb under var/postgres on first start)
"""
from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 55432


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} was not found; install it (apt-get install postgresql).")
    return found


class LocalPostgres:
    def __init__(self, data_dir: Path, port: int = DEFAULT_PORT):
        self.data_dir = Path(data_dir)
        self.port = port
        # initdb refuses to run as root, so the cluster belongs to the postgres system user when we are root.
        self.run_as = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://dealgate:dealgate@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        if self.run_as:
            args = ["runuser", "-u", self.run_as, "--"] + args
        return subprocess.run(args, check=True, **kwargs)  # noqa: S603 - PostgreSQL's own binaries, our arguments

    def _prepare_dir(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            # The postgres user must be able to reach the directory through its parents.
            for parent in list(self.data_dir.parents)[:-1]:
                mode = os.stat(parent).st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)

    def initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self._prepare_dir()
        password_file = self.data_dir.parent / f".{self.data_dir.name}.pw"
        password_file.write_text("dealgate\n")
        os.chmod(password_file, 0o644)
        self._run([_bin("initdb"), "-D", str(self.data_dir), "-U", "dealgate", "--auth=trust",
                   f"--pwfile={password_file}", "-E", "UTF8", "--locale=C.UTF-8"], stdout=subprocess.DEVNULL)
        password_file.unlink()
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.data_dir}'\n"
                       "max_connections = 300\nshared_buffers = 256MB\nfsync = on\n")

    def is_running(self) -> bool:
        result = subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],  # noqa: S603 - fixed argv
                                capture_output=True)
        return result.returncode == 0

    def start(self) -> LocalPostgres:
        if self.is_running():
            return self
        self.initdb()
        # The port on the command line, not only in postgresql.conf: a data directory kept from an earlier run
        # (the temp directory outlives runs) may have been made for another port.
        self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"), "-w",
                   "-t", "60", "-o", f"-p {self.port}", "start"], stdout=subprocess.DEVNULL)
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def restart(self) -> None:
        self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "restart", "-l",
                   str(self.data_dir / "server.log"), "-o", f"-p {self.port}"], stdout=subprocess.DEVNULL)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=dealgate dbname=postgres",
                             autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=dealgate dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.postgres")
    parser.add_argument("action", choices=("start", "stop", "url", "createdb"))
    parser.add_argument("name", nargs="?", help="database name for createdb")
    parser.add_argument("--data-dir", default=os.environ.get("DEALGATE_PG_DATA", str(REPO / "var" / "postgres")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEALGATE_PG_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    cluster = LocalPostgres(Path(args.data_dir), args.port)
    if args.action == "start":
        cluster.start()
        print(f"PostgreSQL ready on 127.0.0.1:{args.port} ({cluster.url()})")
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "createdb":
        print(cluster.create_database(args.name or "dealgate"))
    else:
        print(cluster.url())
    return 0


if __name__ == "__main__":
    sys.exit(main())
