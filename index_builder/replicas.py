"""Several Meilisearch replicas (``MEILI_URLS``): publish to each, show each one's version, sync.

Meilisearch's free edition replicates nothing itself, so the builder does it: every replica gets
the SAME version (the same version id, build time, seed hash and documents), each through the one
atomic swap of :func:`index_builder.publish.publish`. A replica that cannot be reached, or whose
build fails, does not stop the others: the build reports which replicas missed the version and
exits 1. ``python -m index_builder sync`` later copies the newest version found on any replica to
the replicas that lack it (a replica restarted from an old disk, one down during a build): the
documents, the published data and the index settings are read from a replica that holds it and
published again under the same version id, so every replica serves identical data.

Keys: every replica runs with the same master key; the search key is created on each with the
same uid (:mod:`index_builder.keys`), and Meilisearch derives a key's value from its uid and the
master key, so one search key opens every replica.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from index_builder.admin import MeiliAdmin, RetryPolicy
from resolver.errors import BuildError, MeiliUnavailable
from search_platform.connection import Endpoint

T = TypeVar("T")
# Status and sync ask a replica that is down twice, not for the builder's 30 s.
PROBE_RETRY = RetryPolicy(attempts=2, seconds=3.0, first_wait_s=0.2, max_wait_s=1.0)


@dataclass(frozen=True)
class Replica:
    """One Meilisearch server of the replicated set, with the admin adapter to reach it."""

    url: str
    admin: MeiliAdmin


@dataclass(frozen=True)
class Outcome:
    """What one replica did: its result, or why it has none."""

    replica: Replica
    result: object | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the step succeeded on this replica."""
        return self.problem is None


def replicas_of(
    endpoints: Sequence[Endpoint], *, retry: RetryPolicy | None = None
) -> list[Replica]:
    """One replica per endpoint, each with an admin adapter holding the endpoint's key."""
    return [
        Replica(
            endpoint.url,
            MeiliAdmin(
                endpoint.url,
                api_key=endpoint.api_key.get_secret_value() if endpoint.api_key else None,
                retry=retry,
            ),
        )
        for endpoint in endpoints
    ]


def on_each(replicas: Sequence[Replica], step: Callable[[Replica], T]) -> list[Outcome]:
    """Run ``step`` on every replica in turn; a replica that fails does not stop the others."""
    outcomes = []
    for replica in replicas:
        try:
            outcomes.append(Outcome(replica, result=step(replica)))
        except (BuildError, MeiliUnavailable) as exc:
            outcomes.append(Outcome(replica, problem=str(exc)))
    return outcomes
