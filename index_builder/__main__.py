"""``python -m index_builder {validate,build,status,rollback,sync}``: check, publish, versions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from index_builder import publish, versions
from index_builder.seed import validate
from index_builder.settings import BuilderSettings
from resolver.errors import NoziriError
from search_platform.server import exit_cleanly_on_sigterm


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands; each module adds its own options."""
    parser = argparse.ArgumentParser(prog="python -m index_builder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate.add_arguments(commands.add_parser("validate", help="check seed/ and print counts"))
    publish.add_arguments(commands.add_parser("build", help="build and publish the search index"))
    versions.add_status_arguments(
        commands.add_parser("status", help="show the live version: built when, seed hash, counts")
    )
    versions.add_rollback_arguments(
        commands.add_parser("rollback", help="swap the previous version back in")
    )
    versions.add_sync_arguments(
        commands.add_parser("sync", help="bring every replica to the newest version on any")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command with the settings built here; a NoziriError prints as a message."""
    args = build_parser().parse_args(argv)
    exit_cleanly_on_sigterm()
    try:
        return int(args.run(args, BuilderSettings()))
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
