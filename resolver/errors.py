"""The project's one exception tree: every error a user can meet names what to do next.

::

    NoziriError                    base of everything the project raises on purpose
    ├── SetupError                 something is not installed or not configured yet
    │   ├── ChecksumMismatch       a Meilisearch binary is not the pinned one (install, start)
    │   ├── MissingSearchKey       no search key yet: the index has not been built
    │   └── ConfigError            a setting (environment or .env) has a wrong value
    ├── MeiliUnavailable           Meilisearch does not answer (not started, crashed, timed
    │                              out, 5xx after the retries): resolver, server and builder
    ├── SeedLoadError              index_builder.seed.load: a seed file is missing or malformed
    ├── PublishedDataError         resolver.published: a published version cannot be served
    ├── SectorShapeError           a sector polygon cannot be read (also a ValueError)
    └── BuildError                 index_builder.admin: the index build stopped
        ├── MeiliRefusedError      a 4xx answer (bad key, bad request): never retried
        ├── TaskFailedError        Meilisearch accepted a task and then failed it
        ├── TaskTimeoutError       a task did not finish in time
        └── SeedRejectedError      index_builder.publish: validation refused the seed

Errors used by several packages live here; the leaves that carry one package's data
(``SeedLoadError.errors``, ``TaskFailedError`` and its task) live next to the code that raises
them and subclass these. This module imports nothing of the project, so ``search_platform`` and
``index_builder`` can use it without pulling in the resolver.

Every entry point (``python -m resolver``, ``python -m bot``, ``python -m index_builder``,
``python -m search_platform.install``/``.server``) prints a ``NoziriError`` as one message,
without a traceback. Messages never contain the master key or any API key.
"""

from __future__ import annotations

from pathlib import Path


class NoziriError(Exception):
    """Base class of the project's own errors; ``str(error)`` is meant for the user."""


class SetupError(NoziriError):
    """A required program, file or setting is missing or wrong."""


class ChecksumMismatch(SetupError):  # noqa: N818  (names read as the event, like geopy's)
    """A Meilisearch binary whose sha256 is not the pinned one.

    Attributes:
        path: The file that was checked.
        expected: The pinned sha256 (hex).
        actual: The sha256 of ``path`` (hex).
    """

    def __init__(self, *, path: Path, expected: str, actual: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}. "
            "It is corrupt, was changed since it was installed, or is not the pinned release, and "
            "will not be run: reinstall it with `python -m search_platform.install --force`, or "
            "set MEILI_BINARY to a binary you trust."
        )


class MissingSearchKey(SetupError):  # noqa: N818
    """No search-only key exists yet for the search role."""


class ConfigError(SetupError):
    """Settings from the environment (or ``.env``) that do not validate; names each variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("configuration error:\n" + "\n".join(f"  {p}" for p in problems))


class MeiliUnavailable(NoziriError):  # noqa: N818
    """Meilisearch could not be started or does not answer (or fails with 5xx after retries)."""


class SectorShapeError(NoziriError, ValueError):
    """A sector polygon of ``sectors.geojson`` cannot be read."""


class BuildError(NoziriError):
    """Something stopped the index build; the message says what to do."""
