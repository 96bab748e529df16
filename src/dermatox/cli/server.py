"""`dermatox serve`, `migrate` and `check`: run the web application and keep its database ready."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


def cmd_migrate(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    _var_dir(settings)
    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    call_command("createcachetable", verbosity=0)  # the shared cache (settings.CACHES["shared"])
    print(f"Database is up to date ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}).")
    return 0


def _var_dir(settings) -> None:
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    name = settings.DATABASES["default"]["NAME"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name != ":memory:":
        from pathlib import Path

        Path(name).parent.mkdir(parents=True, exist_ok=True)


def cmd_check(args) -> int:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        call_command(
            "check", deploy=args.deploy, verbosity=0, fail_level="WARNING" if args.deploy else "ERROR"
        )
    except SystemCheckError as exc:
        return _err(str(exc), 1)
    connection.ensure_connection()
    pending = MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )
    if pending:
        return _err(f"{len(pending)} migration(s) not applied: run `dermatox migrate`", 1)
    from dermatox.audit import protection

    gone = protection.missing(connection)
    if gone:
        return _err(f"audit protection missing (triggers: {', '.join(gone)}): run `dermatox migrate`", 1)
    print(f"OK: configuration valid, database reachable ({connection.vendor}), migrations applied.")
    return 0


def _start_worker():
    """The task worker beside the web server (for `make run` and small installs): same environment, dies
    with the server (terminated on exit; on Linux also if the server is killed)."""
    import signal
    import subprocess

    def die_with_parent() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    # Our own interpreter and module, no shell.
    return subprocess.Popen([sys.executable, "-m", "dermatox", "worker"], preexec_fn=die_with_parent)


def _stop_worker(process) -> None:
    import subprocess

    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    except ChildProcessError:  # already reaped by gunicorn's arbiter
        pass


KEEPALIVE_SECONDS = 75  # how long `serve` keeps an idle connection (see cmd_serve)
# A worker is replaced after about this many requests (see cmd_serve). WeasyPrint's native libraries keep
# ~276 KB of every PDF they draw (docs/benchmarks.md, load run 3): without recycling a worker grows for ever.
MAX_REQUESTS = 1000


def cmd_serve(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if not 0 < args.port < 65536:
        return _err("--port: must be between 1 and 65535")
    _var_dir(settings)
    call_command("collectstatic", interactive=False, verbosity=0)
    from gunicorn.app.base import BaseApplication

    from dermatox.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("graceful_timeout", 5)
            # An idle connection is kept longer than a browser (or proxy) waits between requests. With
            # gunicorn's 2 s default, a request sent as the server closed an idle connection was reset
            # (the load run's clinicians, 1-3 s between steps, met it); 75 s is nginx's keep-alive default.
            self.cfg.set("keepalive", KEEPALIVE_SECONDS)
            # Replaced gracefully after its in-flight requests; the jitter keeps workers from restarting
            # together. 0 turns recycling off.
            self.cfg.set("max_requests", args.max_requests)
            self.cfg.set("max_requests_jitter", args.max_requests // 5)

        def load(self):
            return application

    from dermatox.documents.pdf import preload

    preload()  # before the fork: a new worker draws its first PDF without loading WeasyPrint

    worker = None if args.no_worker else _start_worker()
    print(f"Dermatox is serving on http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    try:
        Server().run()
    finally:
        _stop_worker(worker)
    return 0
