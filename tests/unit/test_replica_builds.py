"""The builder's replica set without servers: MEILI_URLS, one step on each, who serves what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index_builder.admin import MeiliAdmin
from index_builder.replicas import Replica, on_each
from index_builder.versions import ReplicaStatus, Slot, newest, summary
from resolver.errors import BuildError, MeiliUnavailable
from resolver.published import VersionInfo
from search_platform.connection import external_url, external_urls
from search_platform.settings import MeiliSettings


def make_settings(**values: object) -> MeiliSettings:
    return MeiliSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("urls", "url", "expected"),
    [
        ("http://a:1, http://b:2/", None, ["http://a:1", "http://b:2"]),
        ("http://a:1,,http://a:1", None, ["http://a:1"]),
        (None, "http://c:3/", ["http://c:3"]),
        ("http://a:1,http://b:2", "http://c:3", ["http://a:1", "http://b:2"]),
        (None, None, []),
        ("", None, []),
    ],
    ids=["two", "listed twice", "MEILI_URL alone", "MEILI_URLS wins", "embedded", "empty"],
)
def test_replicas_come_from_meili_urls_else_meili_url(
    urls: str | None, url: str | None, expected: list[str]
) -> None:
    settings = make_settings(meili_urls=urls, meili_url=url)
    assert external_urls(settings) == expected
    assert external_url(settings) == (expected[0] if expected else None)


def make_replica(url: str) -> Replica:
    return Replica(url, MeiliAdmin(url, api_key=None))


def make_status(url: str, version: str | None, *, reachable: bool = True) -> ReplicaStatus:
    if not reachable:
        return ReplicaStatus(make_replica(url), problem="connection refused")
    info = None
    if version is not None:
        info = VersionInfo(
            version=version, built_at=datetime.now(UTC), seed_hash="s", schema_version=1
        )
    slot = Slot("p", "p_meta", info)
    return ReplicaStatus(make_replica(url), live=slot, previous=Slot("q", "q_meta", None))


def test_one_replica_failing_does_not_stop_the_others() -> None:
    replicas = [make_replica(url) for url in ("http://a", "http://b", "http://c")]

    def step(replica: Replica) -> str:
        if replica.url == "http://b":
            raise MeiliUnavailable("connection refused")
        return replica.url

    outcomes = on_each(replicas, step)
    assert [(o.ok, o.result) for o in outcomes] == [
        (True, "http://a"),
        (False, None),
        (True, "http://c"),
    ]
    assert outcomes[1].problem == "connection refused"


def test_a_programming_error_is_not_taken_for_a_replica_failure() -> None:
    def step(replica: Replica) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        on_each([make_replica("http://a")], step)


@pytest.mark.parametrize(
    ("statuses", "agreed", "says"),
    [
        ([("a", "v2"), ("b", "v2")], True, "all 2 replicas serve version v2"),
        (
            [("a", "v1"), ("b", "v2")],
            False,
            "1 of 2 replicas do not serve the newest version v2: a",
        ),
        ([("a", None), ("b", "v2")], False, "do not serve the newest version v2: a"),
        ([("a", "down"), ("b", "v2")], False, "do not serve the newest version v2: a"),
        ([("a", None), ("b", "down")], False, "no replica holds a version"),
    ],
    ids=["agree", "one behind", "one empty", "one unreachable", "nothing anywhere"],
)
def test_status_says_whether_every_replica_serves_the_newest_version(
    statuses: list[tuple[str, str | None]], agreed: bool, says: str
) -> None:
    made = [make_status(url, v, reachable=v != "down") for url, v in statuses]
    ok, line = summary(made)
    assert ok is agreed
    assert says in line


def test_the_newest_version_is_the_latest_build() -> None:
    made = [make_status("a", "20260101_000000_000000"), make_status("b", "20261201_000000_000000")]
    top = newest(made)
    assert top is not None and top.replica.url == "b"


def test_an_unreachable_replica_is_shown_as_such() -> None:
    assert make_status("http://a", None, reachable=False).describe() == [
        "replica http://a: UNREACHABLE (connection refused)"
    ]


def test_a_build_error_is_a_replica_failure_too() -> None:
    def step(replica: Replica) -> None:
        raise BuildError("task failed")

    assert on_each([make_replica("http://a")], step)[0].problem == "task failed"
