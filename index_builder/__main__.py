"""``python -m index_builder {validate,build} [SEED_DIR]``: check the seed, or publish the index."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from index_builder import publish, validate


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands; each module adds its own options."""
    parser = argparse.ArgumentParser(prog="python -m index_builder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate.add_arguments(commands.add_parser("validate", help="check seed/ and print counts"))
    publish.add_arguments(commands.add_parser("build", help="build and publish the search index"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command and return its exit status."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
