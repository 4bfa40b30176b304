"""``python -m deploy``: the whole topology on one machine, or HAProxy's config.

Commands::

    python -m deploy up --workers 3 --replicas 2 [--database postgresql|sqlite]
                        [--api-root URL --token T] [--run-dir DIR] [--keep]
    python -m deploy render-haproxy [--workers 3]

``up`` starts the database, the Meilisearch replicas (and builds the index into all of them),
HAProxy with a fresh self-signed certificate, and the bot workers; without ``--api-root`` it
first runs the project's fake Bot API in a process of its own, so the demo needs no Telegram.
It prints what runs where and stays up until Ctrl-C or SIGTERM, then stops every process it
started. A run directory it made itself is removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deploy.haproxy import front_config, render
from deploy.launch import Topology, TopologyStatus, default_database, launch
from deploy.plan import Plan, make_plan
from deploy.processes import Child, DeployError
from resolver.errors import NoziriError
from search_platform.files import write_private_file
from search_platform.settings import PROJECT_ROOT

FAKE_API_TIMEOUT_S = 30.0
TABLE_WIDTH = 160  # the output's width when it is not a terminal (a log, a pipe)
console = Console(width=None if sys.stdout.isatty() else TABLE_WIDTH)


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the whole topology until Ctrl-C")
    add_shape(up, workers=3)
    up.add_argument("--replicas", type=positive, default=2, help="Meilisearch replicas")
    up.add_argument(
        "--database",
        choices=["postgresql", "sqlite"],
        default=None,
        help="the shared reports database (default: postgresql if its binaries are found)",
    )
    up.add_argument("--api-root", help="the Bot API root; default: the fake one, in its process")
    up.add_argument("--token", help="the bot token (with --api-root)")
    up.add_argument("--run-dir", type=Path, help="where data and logs go (default: a fresh one)")
    up.add_argument("--keep", action="store_true", help="keep a fresh run directory at the end")
    up.set_defaults(run=run_up)
    show = commands.add_parser("render-haproxy", help="print the HAProxy config for a topology")
    add_shape(show, workers=3)
    show.set_defaults(run=run_render)
    return parser


def positive(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_shape(parser: argparse.ArgumentParser, *, workers: int) -> None:
    """The ``--workers`` option."""
    parser.add_argument("--workers", type=positive, default=workers, help="bot workers")


def run_render(args: argparse.Namespace) -> int:
    """Print the config HAProxy would get (ports picked now, files in a fresh run dir)."""
    plan = make_plan(workers=args.workers, replicas=1, database="sqlite")
    try:
        print(render(front_config(plan)), end="")
    finally:
        shutil.rmtree(plan.run_dir, ignore_errors=True)
    return 0


def run_up(args: argparse.Namespace) -> int:
    """Plan, launch, show, wait for a signal, stop."""
    if bool(args.api_root) != bool(args.token):
        raise DeployError("--api-root and --token go together (or give neither: the fake API)")
    plan = make_plan(
        workers=args.workers,
        replicas=args.replicas,
        database=args.database or default_database(),
        run_dir=args.run_dir,
    )
    try:
        asyncio.run(serve(plan, api_root=args.api_root, token=args.token))
    finally:
        if args.run_dir is None and not args.keep:
            shutil.rmtree(plan.run_dir, ignore_errors=True)
        else:
            console.print(f"logs and data kept in {plan.run_dir}")
    return 0


async def serve(plan: Plan, *, api_root: str | None, token: str | None) -> None:
    """Run until SIGINT or SIGTERM (either one also interrupts the start-up)."""
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, lambda: main.cancel() if not stop.is_set() else None)
    console.print(f"starting in {plan.run_dir} …")
    with contextlib.suppress(asyncio.CancelledError):
        async with contextlib.AsyncExitStack() as stack:
            root, secret_token = await stack.enter_async_context(bot_api(plan, api_root, token))
            topo = await stack.enter_async_context(launch(plan, api_root=root, token=secret_token))
            show(topo, await topo.status())
            await asyncio.Event().wait()  # until a signal cancels this task
    console.print("stopped")


@contextlib.asynccontextmanager
async def bot_api(
    plan: Plan, root: str | None, token: str | None
) -> AsyncIterator[tuple[str, str]]:
    """The given Bot API, or the fake one in a process of its own for the block."""
    if root and token:
        yield root, token
        return
    ready = plan.run_dir / "fake-api.json"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "deploy.fake_api", str(ready)]
    child = Child("the fake Bot API", command, plan.run_dir / "fake-api.log", cwd=PROJECT_ROOT)
    child.start()
    try:
        await asyncio.to_thread(
            child.wait_until, ready.is_file, timeout_s=FAKE_API_TIMEOUT_S, what="serving"
        )
        found = json.loads(ready.read_text(encoding="utf-8"))
        yield str(found["root"]), str(found["token"])
    finally:
        await asyncio.shield(asyncio.to_thread(child.stop))


def show(topo: Topology, status: TopologyStatus) -> None:
    """Print the table of what runs where (logs relative to the run dir), and the webhook."""
    run_dir = topo.plan.run_dir
    table = Table(title=f"Noziri on 127.0.0.1 (run directory {run_dir})")
    for column in ("role", "name", "address", "pid", "state", "log"):
        table.add_column(column, no_wrap=True)
    for row in status.rows:
        pid = str(row.pid) if row.pid else "-"
        log = str(row.log.relative_to(run_dir)) if row.log.is_relative_to(run_dir) else str(row.log)
        table.add_row(row.role, row.name, row.address, pid, row.state, log)
    console.print(table)
    secret_file = write_private_file(topo.plan.run_dir / "webhook.secret", topo.secret + "\n")
    console.print(f"webhook: {topo.webhook_url}  (CA: {topo.cafile}; secret in {secret_file})")
    console.print(f"database: {redacted(topo.database_url)}")
    console.print("Ctrl-C stops everything.")


def redacted(url: str) -> str:
    """A database URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme_user = head.rsplit(":", 1)[0]
    return f"{scheme_user}:***@{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; a NoziriError prints as a message (exit status 1)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
