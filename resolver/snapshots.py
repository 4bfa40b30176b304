"""Follow the published version: one immutable snapshot per version, switched atomically.

A :class:`Snapshots` holds the :class:`~resolver.service.Pipeline` of the version being served
(sector links, sectors, inspectors, polygons, vocabulary: everything a resolution links with).
It is a :class:`~resolver.service.PipelineSource`: a resolution takes :meth:`current` once and
uses it from start to end; a search hit of another version makes it :meth:`follow` that version.

:meth:`check` is the cheap version check (one search of the version document, about a
millisecond): when the live version differs from the served one, the whole data is read (one more
search), validated and built into a new pipeline, and only then put in place: a reference swap,
so no resolution sees half of it. A version that cannot be read (incomplete, another schema) is
refused with one log line and the served one stays. :meth:`watch` runs the check every few
seconds in a daemon thread. The last few snapshots are kept, so a rollback switches at once.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from resolver.errors import MeiliUnavailable
from resolver.published import (
    PublishedData,
    PublishedDataError,
    read_data_documents,
    read_version,
)
from resolver.service import Pipeline

logger = logging.getLogger(__name__)

KEPT_SNAPSHOTS = 3


class PublishedReader(Protocol):
    """Reads the live data index (``resolver.meili.MeiliPublishedReader``)."""

    def version(self) -> Mapping[str, Any] | None:
        """The version document, or None."""
        ...

    def documents(self) -> list[dict[str, Any]]:
        """Every document of the data index."""
        ...


class Snapshots:
    """The pipeline of the published version being served, following new versions.

    Args:
        reader: Reads the live data index.
    """

    def __init__(self, reader: PublishedReader) -> None:
        self._reader = reader
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Pipeline] = OrderedDict()
        self._refused: set[str] = set()
        self._current: Pipeline | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @classmethod
    def load(cls, reader: PublishedReader) -> Snapshots:
        """Read the live version; raise if there is none this resolver can serve.

        Raises:
            PublishedDataError: nothing is published, or the live version cannot be served.
        """
        snapshots = cls(reader)
        snapshots._current = snapshots._build(read_data_documents(reader.documents()))
        return snapshots

    def current(self) -> Pipeline:
        """The pipeline of the version being served."""
        if self._current is None:
            raise PublishedDataError("no published version loaded: build the index first")
        return self._current

    def follow(self, version: str) -> Pipeline | None:
        """Check the live version now; the pipeline of ``version`` if it is the one served now."""
        if version in self._refused:
            return None
        served = self.check()
        return served if served.version.version == version else None

    def check(self) -> Pipeline:
        """Switch to the live version if it changed and can be served; return the served one."""
        with self._lock:
            try:
                self._switch_to_live()
            except (MeiliUnavailable, PublishedDataError) as exc:  # down, or the index is gone
                logger.warning("published version not checked (%s); serving the one held", exc)
        return self.current()

    def watch(self, interval_s: float) -> None:
        """Check the live version every ``interval_s`` seconds in a daemon thread."""
        if self._watcher is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.check()
                except Exception:  # the watcher must outlive any surprise; the bot keeps serving
                    logger.exception("published version check failed; will try again")

        self._watcher = threading.Thread(target=loop, name="published-version", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _switch_to_live(self) -> None:
        """Read the live version id; load, check and put in place a new one (under the lock)."""
        document = self._reader.version()
        version = str(document.get("version")) if document else None
        if version is None or version == self.current().version.version:
            return
        if version in self._kept:  # a rollback to a version served before
            self._put(self._kept[version])
            return
        if version in self._refused:
            return
        try:
            read_version(document or {})
            self._put(self._build(read_data_documents(self._reader.documents())))
        except PublishedDataError as exc:
            self._refused.add(version)
            logger.error(
                "refused published version %s: %s; still serving %s",
                version,
                exc,
                self.current().version.describe(),
            )

    def _build(self, data: PublishedData) -> Pipeline:
        """The pipeline of ``data``, kept among the last few versions."""
        pipeline = Pipeline.of(data)
        self._kept[pipeline.version.version] = pipeline
        while len(self._kept) > KEPT_SNAPSHOTS:
            self._kept.popitem(last=False)
        return pipeline

    def _put(self, pipeline: Pipeline) -> None:
        """Serve ``pipeline`` from now on (one reference swap)."""
        previous = self._current
        self._current = pipeline
        self._kept.move_to_end(pipeline.version.version)
        logger.info(
            "now serving published version %s (was %s)",
            pipeline.version.describe(),
            previous.version.version if previous else "none",
        )
