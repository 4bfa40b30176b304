"""The index builder's Meilisearch adapter: admin calls, task checks and retries in one place.

Exceptions (everything the builder's I/O raises):

- :class:`~resolver.errors.MeiliUnavailable` — connection refused/reset, timeouts, 5xx
  answers, after the retry budget of :class:`RetryPolicy` is spent (the same error the
  resolver raises: one name per condition, see :mod:`resolver.errors`).
- :class:`~resolver.errors.BuildError` — base of the rest; its message says what to do.
  - :class:`TaskFailedError` — Meilisearch accepted a task and then failed it (the Python
    client's ``wait_for_task`` returns such a task without raising; this adapter raises).
  - :class:`TaskTimeoutError` — a task did not finish in time.
  - :class:`MeiliRefusedError` — a 4xx answer (bad key, bad request): never retried.

Only transient failures are retried, with tenacity, bounded by attempts *and* time, with
exponential backoff, re-raising the last error. Each retried call is safe to repeat: document
additions replace documents by id, settings are idempotent, and a swap is looked up among the
server's tasks before it is sent again (a swap sent twice would undo itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from meilisearch import Client
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.models.task import Task
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from resolver.errors import BuildError, MeiliUnavailable

T = TypeVar("T")
FINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})
PENDING_STATUSES = ("enqueued", "processing")
PAGE_SIZE = 1000


class MeiliRefusedError(BuildError):
    """Meilisearch refused a request (4xx)."""

    def __init__(self, message: str, *, code: str | None) -> None:
        super().__init__(message)
        self.code = code


class TaskFailedError(BuildError):
    """A Meilisearch task ended as ``failed`` or ``canceled``."""

    def __init__(self, task: Task) -> None:
        error = task.error or {}
        super().__init__(
            f"Meilisearch task {task.uid} ({task.type} on {task.index_uid}) {task.status}: "
            f"{error.get('code', 'no code')}: {error.get('message', 'no message')}"
        )
        self.task = task


class TaskTimeoutError(BuildError):
    """A task was still pending when the wait ran out."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a transient failure: at most ``attempts`` tries within ``seconds``."""

    attempts: int = 5
    seconds: float = 30.0
    first_wait_s: float = 0.2
    max_wait_s: float = 5.0


def is_transient(error: BaseException) -> bool:
    """Tell whether an error may go away by itself (connection trouble, timeout, 5xx)."""
    if isinstance(error, MeilisearchCommunicationError | MeilisearchTimeoutError):
        return True
    return isinstance(error, MeilisearchApiError) and error.status_code >= 500


REFUSAL_HINTS = {
    "missing_authorization_header": "the server has a master key: set MEILI_MASTER_KEY",
    "invalid_api_key": "MEILI_MASTER_KEY is not this server's master (or an admin) key",
    "missing_master_key": "start Meilisearch with a master key (--master-key) to manage keys",
}


def refusal_hint(code: str | None) -> str:
    """Return ``"; <what to do>"`` for refusals a user can fix, else nothing."""
    hint = REFUSAL_HINTS.get(code or "")
    return f"; {hint}" if hint else ""


def describe(error: BaseException) -> str:
    """Describe a client error without echoing headers or keys."""
    if isinstance(error, MeilisearchApiError):
        return f"HTTP {error.status_code} {error.code or ''}: {error.message}".strip()
    return f"{type(error).__name__}: {error}"


class MeiliAdmin:
    """Admin-side calls the builder makes, with retries and task checks."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.url = url
        self._client = Client(url, api_key, timeout=int(timeout_s))
        self._retry = retry or RetryPolicy()

    def call(self, what: str, operation: Callable[[], T]) -> T:
        """Run one request, retrying transient failures, mapping errors to the error tree."""
        policy = self._retry
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.seconds),
            wait=wait_exponential(multiplier=policy.first_wait_s, max=policy.max_wait_s),
            reraise=True,
        )
        try:
            return retrying(operation)
        except MeilisearchApiError as exc:
            if exc.status_code >= 500:
                raise MeiliUnavailable(f"{what}: Meilisearch failed: {describe(exc)}") from exc
            raise MeiliRefusedError(
                f"{what}: Meilisearch refused: {describe(exc)}{refusal_hint(exc.code)}",
                code=exc.code,
            ) from exc
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
            raise MeiliUnavailable(
                f"{what}: Meilisearch at {self.url} did not answer ({describe(exc)}); "
                "check that it runs and that MEILI_URL is right"
            ) from exc

    # -- indexes -----------------------------------------------------------------------------

    def index_exists(self, uid: str) -> bool:
        """Tell whether an index exists."""
        try:
            self.call(f"look up index {uid}", lambda: self._client.get_raw_index(uid))
        except MeiliRefusedError as exc:
            if exc.code == "index_not_found":
                return False
            raise
        return True

    def create_index(self, uid: str) -> int:
        """Enqueue the creation of an empty index keyed by ``id``; return the task uid."""
        info = self.call(
            f"create index {uid}", lambda: self._client.create_index(uid, {"primaryKey": "id"})
        )
        return info.task_uid

    def delete_index(self, uid: str) -> int:
        """Enqueue the deletion of an index; return the task uid."""
        return self.call(f"delete index {uid}", lambda: self._client.delete_index(uid)).task_uid

    def rename_index(self, uid: str, new_uid: str) -> int:
        """Enqueue renaming an index; return the task uid."""
        index = self._client.index(uid)
        return self.call(f"rename index {uid}", lambda: index.update(new_uid=new_uid)).task_uid

    def index_uids(self, *, prefix: str = "") -> list[str]:
        """Return the uids of the server's indexes that start with ``prefix``."""
        found: list[str] = []
        while True:
            page = self._index_page(offset=len(found))
            found.extend(str(index["uid"]) for index in page["results"])
            if not page["results"] or len(found) >= int(page["total"]):
                return [uid for uid in found if uid.startswith(prefix)]

    def _index_page(self, *, offset: int) -> dict[str, Any]:
        """Return one page of ``GET /indexes`` (the client mistypes it as a list)."""
        params = {"offset": offset, "limit": PAGE_SIZE}
        page = self.call("list indexes", lambda: self._client.get_raw_indexes(params))
        return cast(dict[str, Any], page)

    def update_settings(self, uid: str, settings: Mapping[str, object]) -> int:
        """Enqueue a settings update; return the task uid."""
        index = self._client.index(uid)
        return self.call(
            f"update settings of {uid}", lambda: index.update_settings(dict(settings))
        ).task_uid

    def get_settings(self, uid: str) -> dict[str, Any]:
        """Return an index's settings, as ``PATCH /settings`` takes them back."""
        index = self._client.index(uid)
        return dict(self.call(f"read settings of {uid}", index.get_settings))

    def add_documents_json(self, uid: str, payload: bytes, *, count: int) -> int:
        """Enqueue one batch (a JSON array of ``count`` documents); return the task uid.

        Documents with an id already present replace it, so a retried batch does no harm.
        """
        index = self._client.index(uid)
        info = self.call(
            f"send {count} documents to {uid}",
            lambda: index.add_documents_raw(
                payload, primary_key="id", content_type="application/json"
            ),
        )
        return info.task_uid

    def count_documents(self, uid: str) -> int:
        """Return how many documents an index holds."""
        stats = self.call(f"read stats of {uid}", lambda: self._client.index(uid).get_stats())
        return int(stats.number_of_documents)

    def iter_documents(self, uid: str, *, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Yield every document of an index (only ``fields``), page by page."""
        index = self._client.index(uid)
        offset = 0
        while True:
            params = {"offset": offset, "limit": PAGE_SIZE, "fields": list(fields)}
            page = self.call(f"read documents of {uid}", lambda p=params: index.get_documents(p))  # type: ignore[misc]
            yield from (dict(document) for document in page.results)
            offset += len(page.results)
            if not page.results or offset >= page.total:
                return

    def swap_indexes(self, live: str, fresh: str) -> int:
        """Enqueue an atomic swap of the live index with a fresh one, never twice."""
        return self.swap_many([(live, fresh)])

    def swap_many(self, pairs: Sequence[tuple[str, str]]) -> int:
        """Enqueue one swap of several pairs (atomic: all or none), never twice; return its uid.

        The request is made idempotent before it is retried: each attempt first looks for a swap
        of these pairs among the server's tasks (the fresh index names are unique per build), so
        a swap whose answer was lost is not sent again (a second swap would undo the first).
        """
        what = "swap " + ", ".join(f"{a} and {b}" for a, b in pairs)
        return self.call(what, lambda: self._find_or_send_swap(pairs))

    def _find_or_send_swap(self, pairs: Sequence[tuple[str, str]]) -> int:
        """Return the uid of these pairs' swap task, sending the swap if there is none yet."""
        existing = self.find_swap(pairs)
        if existing is not None:
            return existing
        body: list[Mapping[str, list[str] | bool]] = [
            {"indexes": [live, fresh]} for live, fresh in pairs
        ]
        return self._client.swap_indexes(body).task_uid

    def find_swap(self, pairs: Sequence[tuple[str, str]]) -> int | None:
        """Return the uid of a queued, running or done swap of exactly these pairs."""
        params = {
            "types": "indexSwap",
            "indexUids": pairs[0][1],
            "statuses": "enqueued,processing,succeeded",
        }
        tasks = self._client.get_tasks(params)
        wanted = {frozenset(pair) for pair in pairs}
        for task in tasks.results:
            swaps = (task.details or {}).get("swaps", [])
            if {frozenset(swap.get("indexes", [])) for swap in swaps} == wanted:
                return int(task.uid)
        return None

    def get_document(self, uid: str, document_id: str) -> dict[str, Any] | None:
        """Return one document of an index, or None if the index or the document is missing."""
        index = self._client.index(uid)
        try:
            document = self.call(
                f"read {document_id} of {uid}", lambda: index.get_document(document_id)
            )
        except MeiliRefusedError as exc:
            if exc.code in {"index_not_found", "document_not_found"}:
                return None
            raise
        return dict(document)

    def all_documents(self, uid: str) -> list[dict[str, Any]]:
        """Return every document of a (small) index, every field."""
        index = self._client.index(uid)
        found: list[dict[str, Any]] = []
        while True:
            params = {"offset": len(found), "limit": PAGE_SIZE}
            page = self.call(f"read documents of {uid}", lambda p=params: index.get_documents(p))  # type: ignore[misc]
            found.extend(dict(document) for document in page.results)
            if not page.results or len(found) >= page.total:
                return found

    def cancel_index_tasks(self, uid: str) -> int:
        """Cancel every queued or running task of an index; return the cancelation task uid."""
        params = {"indexUids": uid, "statuses": ",".join(PENDING_STATUSES)}
        return self.call(
            f"cancel tasks of {uid}", lambda: self._client.cancel_tasks(params)
        ).task_uid

    # -- tasks -------------------------------------------------------------------------------

    def wait(self, task_uid: int, *, timeout_s: float = 600.0, poll_s: float = 0.05) -> Task:
        """Wait for a task to finish; raise :class:`TaskFailedError` unless it succeeded."""
        deadline = time.monotonic() + timeout_s
        while True:
            task = self.call(f"check task {task_uid}", lambda: self._client.get_task(task_uid))
            if task.status in FINAL_STATUSES:
                return require_success(task)
            if time.monotonic() > deadline:
                raise TaskTimeoutError(
                    f"Meilisearch task {task_uid} ({task.type}) still {task.status} after "
                    f"{timeout_s:.0f} s; see GET /tasks/{task_uid}"
                )
            time.sleep(poll_s)

    def wait_all(
        self,
        task_uids: Sequence[int],
        *,
        timeout_s: float = 600.0,
        on_done: Callable[[Task], None] | None = None,
    ) -> list[Task]:
        """Wait for several tasks in order, checking each one's final status."""
        done: list[Task] = []
        deadline = time.monotonic() + timeout_s
        for uid in task_uids:
            done.append(self.wait(uid, timeout_s=max(0.0, deadline - time.monotonic())))
            if on_done is not None:
                on_done(done[-1])
        return done

    # -- keys --------------------------------------------------------------------------------

    def list_keys(self) -> list[dict[str, Any]]:
        """Return every API key (needs the master key)."""
        result = self.call("list API keys", lambda: self._client.get_keys({"limit": 1000}))
        return [key.model_dump(by_alias=False) for key in result.results]

    def create_key(self, options: Mapping[str, object]) -> dict[str, Any]:
        """Create an API key; return it (uid, key, actions, indexes ...)."""
        key = self.call("create the search key", lambda: self._client.create_key(options))
        return key.model_dump(by_alias=False)

    def delete_key(self, uid: str) -> None:
        """Delete an API key by uid."""
        self.call("delete the old search key", lambda: self._client.delete_key(uid))


def require_success(task: Task) -> Task:
    """Return a succeeded task; raise :class:`TaskFailedError` for a failed or canceled one."""
    if task.status != "succeeded":
        raise TaskFailedError(task)
    return task
