"""The maintainer's commands for reports, run as ``python -m bot staff …`` and ``python -m bot
reports …`` (:func:`add_commands` hooks them into the bot's parser).

Commands::

    staff invite SOM-17            a one-time code; the inspector sends /link <code> to the bot
    staff invite --duty sino       the same for a district's duty chat (escalations)
    staff unlink SOM-17            forget the sector's chat (then invite again to relink)
    staff list                     every linked chat
    reports export --since 2026-11-01 [--sector SOM-17] [--out FILE]    CSV for the precinct
    reports migrate                create or upgrade the database schema
    reports forget                 apply retention now: drop chat ids and phones of old reports

Sector ids are checked against the published data (the sectors the bot serves), read from
Meilisearch like the bot does; when it cannot be read, only the id's form (``SOM-17``) is
checked, and the command says so.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from reports.database import head_revision, schema_revision
from reports.model import StaffScope
from reports.settings import ReportSettings
from reports.store import SqlReportStore, open_store
from resolver.errors import NoziriError, SetupError
from resolver.gazetteer import SECTOR_ID_PATTERN, District
from search_platform.files import open_private, secure_data_dir
from search_platform.settings import MeiliSettings, read_settings

# The sector ids the bot serves, or None when they cannot be read.
KnownSectors = Callable[[], frozenset[str] | None]
CSV_COLUMNS = (
    "reference", "status", "kind", "sector_id", "district", "place", "place_id", "house", "lat",
    "lon", "occurred", "occurred_at", "text", "voice", "photos", "anonymous", "phone",
    "created_at", "updated_at", "escalated_at", "closed_at", "outcome",
)  # fmt: skip


def published_sectors() -> frozenset[str] | None:
    """The sector ids of the live published version (as the bot reads them), or None."""
    from resolver.bootstrap import published_reader  # noqa: PLC0415  (the search stack, lazily)
    from resolver.published import read_data_documents  # noqa: PLC0415
    from search_platform.connection import search_endpoint  # noqa: PLC0415

    try:
        meili = read_settings(MeiliSettings)
        with search_endpoint(meili) as endpoint:
            reader = published_reader(meili, endpoint)
            try:
                data = read_data_documents(reader.documents())
            finally:
                reader.close()
    except (NoziriError, OSError) as exc:
        print(f"note: the published sectors could not be read ({exc}); "
              "checking the sector id's form only", file=sys.stderr)  # fmt: skip
        return None
    return frozenset(sector.id for sector in data.sectors)


def check_sector(sector_id: str, known: frozenset[str] | None) -> str:
    """The sector id, if it is one the bot serves (or, unknown which, has the right form)."""
    if not re.fullmatch(SECTOR_ID_PATTERN, sector_id):
        raise SetupError(f"{sector_id!r} is not a sector id: they look like SOM-17 or SHM-08")
    if known is not None and sector_id not in known:
        same = sorted(s for s in known if s[:3] == sector_id[:3]) or sorted(known)
        raise SetupError(f"no published sector {sector_id}: the sectors are {', '.join(same)}")
    return sector_id


def scope_of(args: argparse.Namespace, known_sectors: KnownSectors) -> StaffScope:
    """The scope a staff command names: a sector, or ``--duty DISTRICT``."""
    if (args.sector is None) == (args.duty is None):
        raise SetupError("name a sector (SOM-17) or a district's duty chat (--duty sino)")
    if args.duty is not None:
        return StaffScope(duty_district=District(args.duty))
    return StaffScope(sector_id=check_sector(args.sector.upper(), known_sectors()))


# ---------------------------------------------------------------- the commands


def scope_words(scope: StaffScope) -> tuple[str, str]:
    """How a scope is named on the command line, and what its chat receives."""
    if scope.duty_district is not None:
        return f"--duty {scope.duty_district}", f"the {scope.duty_district} duty chat's escalations"
    return str(scope), f"{scope}'s reports"


def invite(args: argparse.Namespace, store: SqlReportStore, ctx: Context) -> int:
    """Print a one-time code for a scope, and how the inspector uses it."""
    scope = scope_of(args, ctx.known_sectors)
    now = ctx.clock()
    code = store.invite(scope, now=now, valid_for=ctx.settings.invite_validity)
    until = now + ctx.settings.invite_validity
    argument, receives = scope_words(scope)
    print(
        f"One-time code for {scope} (valid until {until:%Y-%m-%d %H:%M} UTC):\n\n"
        f"    {code}\n\n"
        f"From the chat that is to receive {receives}, the inspector sends the bot:\n\n"
        f"    /link {code}\n\n"
        f"The code works once. While {scope} is linked nobody else can claim it;\n"
        f"`python -m bot staff unlink {argument}` frees it."
    )
    return 0


def unlink(args: argparse.Namespace, store: SqlReportStore, ctx: Context) -> int:
    """Forget a scope's staff chat."""
    scope = scope_of(args, lambda: None)  # an old sector may be gone from the data: allow it
    chat = store.unlink(scope)
    if chat is None:
        print(f"{scope} had no staff chat")
    else:
        argument, _ = scope_words(scope)
        print(f"{scope} unlinked from chat {chat}; `python -m bot staff invite {argument}` relinks")
    return 0


def list_chats(_: argparse.Namespace, store: SqlReportStore, __: Context) -> int:
    """Print every linked scope and its chat."""
    chats = store.staff_chats()
    if not chats:
        print("no staff chat is linked yet: `python -m bot staff invite SOM-17` makes a code")
    for scope, chat in sorted(chats.items()):
        print(f"{scope:<16} chat {chat}")
    return 0


def export(args: argparse.Namespace, store: SqlReportStore, ctx: Context) -> int:
    """Write the reports filed since a day as CSV (to ``--out``, 0600, or to stdout)."""
    sector = None if args.sector is None else check_sector(args.sector.upper(), ctx.known_sectors())
    since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC)
    rows = store.export(sector_id=sector, since=since)
    if args.out is None:
        count = write_csv(rows, sys.stdout)
    else:
        with open(
            open_private(args.out, os.O_WRONLY | os.O_TRUNC), "w", encoding="utf-8", newline=""
        ) as out:
            count = write_csv(rows, out)
        print(f"{count} report(s) written to {args.out}", file=sys.stderr)
    return 0


def write_csv(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """Write the rows with a header; how many."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: csv_value(value) for key, value in row.items()})
        count += 1
    return count


def csv_value(value: object) -> object:
    """Datetimes as ISO 8601 UTC, None as empty."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else value


def migrate(_: argparse.Namespace, store: SqlReportStore, ctx: Context) -> int:
    """Say where the schema is (``open_store`` has just upgraded it)."""
    where = make_url(ctx.settings.url).render_as_string(hide_password=True)
    print(f"reports database {where} at revision {schema_revision(store.engine)} (newest: "
          f"{head_revision()})")  # fmt: skip
    return 0


def forget(_: argparse.Namespace, store: SqlReportStore, ctx: Context) -> int:
    """Apply retention now."""
    cut = ctx.clock() - ctx.settings.retention
    count = store.forget_residents(closed_before=cut)
    print(f"{count} report(s) closed before {cut:%Y-%m-%d} lost the resident's chat id and phone")
    return 0


# ---------------------------------------------------------------- composition


class Context:
    """What the commands need besides the store: settings, the clock, the known sectors."""

    def __init__(
        self,
        settings: ReportSettings,
        *,
        known_sectors: KnownSectors = published_sectors,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.known_sectors = known_sectors
        self.clock = clock


Command = Callable[[argparse.Namespace, SqlReportStore, Context], int]


def run_command(args: argparse.Namespace, context: Context | None = None) -> int:
    """Open the store from the settings and run the chosen command."""
    ctx = context or Context(read_settings(ReportSettings))
    if ctx.settings.database_url is None:
        secure_data_dir(ctx.settings.noziri_data_dir)
    store = open_store(ctx.settings.url, daily_limit=ctx.settings.reports_daily_limit)
    try:
        command: Command = args.reports_command
        return command(args, store, ctx)
    finally:
        store.close()


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """A sector id, or ``--duty DISTRICT``."""
    parser.add_argument("sector", nargs="?", help="the sector id, e.g. SOM-17")
    parser.add_argument("--duty", choices=[d.value for d in District], help="a duty chat")


STAFF_COMMANDS: tuple[tuple[str, Command, str], ...] = (
    ("invite", invite, "print a one-time /link code for a sector or a duty chat"),
    ("unlink", unlink, "forget a sector's (or a duty) chat"),
    ("list", list_chats, "every linked chat"),
)
REPORTS_COMMANDS: tuple[tuple[str, Command, str], ...] = (
    ("export", export, "CSV of the reports filed since a day"),
    ("migrate", migrate, "create or upgrade the database schema"),
    ("forget", forget, "apply retention now (the running bot also does it periodically)"),
)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """``--since`` (required), ``--sector``, ``--out``."""
    parser.add_argument("--since", type=date.fromisoformat, required=True, help="YYYY-MM-DD, UTC")
    parser.add_argument("--sector", help="only this sector (default: all)")
    parser.add_argument("--out", type=Path, help="write to this file (0600) instead of stdout")


def no_arguments(_: argparse.ArgumentParser) -> None:
    """A command without arguments."""


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "invite": add_scope_arguments,
    "unlink": add_scope_arguments,
    "export": add_export_arguments,
}


def add_commands(commands: Any, *, runner: Callable[..., int] | None = None) -> None:
    """Add ``staff`` and ``reports`` to a sub-command parser (``python -m bot``'s).

    ``runner`` is what the parser's ``run`` default calls; by default one that ignores the
    bot's own settings arguments and runs :func:`run_command`.
    """
    run = runner or (lambda args, *_: run_command(args))
    for group, helptext, entries in (
        ("staff", "inspectors' chats: invite, unlink, list", STAFF_COMMANDS),
        ("reports", "the reports database: export, migrate, forget", REPORTS_COMMANDS),
    ):
        subcommands = commands.add_parser(group, help=helptext).add_subparsers(
            dest=f"{group}_command", required=True
        )
        for name, command, about in entries:
            parser = subcommands.add_parser(name, help=about)
            ARGUMENTS.get(name, no_arguments)(parser)
            parser.set_defaults(run=run, reports_command=command)


def build_parser() -> argparse.ArgumentParser:
    """The commands on their own (``python -m reports.cli`` behaves as ``python -m bot``)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None, *, context: Context | None = None) -> int:
    """Run one command; a problem is a message on stderr and exit status 1."""
    args = build_parser().parse_args(argv)
    try:
        return run_command(args, context)
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
