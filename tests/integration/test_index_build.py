"""The index builder against a real Meilisearch: what residents type is found, builds are safe."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from index_builder.__main__ import main
from index_builder.admin import MeiliAdmin, RetryPolicy, TaskFailedError
from index_builder.documents import build_documents
from index_builder.index_settings import index_settings
from index_builder.keys import ensure_search_key
from index_builder.publish import BuildPlan, dry_run, publish
from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Address, Gazetteer, Place
from index_builder.synthetic import synthetic_gazetteer
from resolver.gazetteer import Link, PlaceKind
from resolver.index_schema import CYRILLIC_FIELDS, LATIN_FIELDS, PlaceDocument
from resolver.text.fold import fold
from resolver.text.latin import latin_key
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "seed"


@pytest.fixture(scope="module")
def seed() -> Gazetteer:
    """The project's real seed gazetteer."""
    return load_gazetteer(SEED_DIR)


@pytest.fixture
def admin(meili: Endpoint) -> MeiliAdmin:
    """The builder's admin adapter on the test server."""
    assert meili.api_key is not None
    return MeiliAdmin(meili.url, api_key=meili.api_key.get_secret_value())


def build(admin: MeiliAdmin, gazetteer: Gazetteer, live: str, **plan: Any) -> int:
    """Publish a gazetteer to ``live``; return the document count."""
    report = publish(
        admin,
        build_documents(gazetteer),
        BuildPlan(live=live, settings=index_settings(gazetteer), **plan),
        data=published_data(gazetteer),
    )
    return report.documents


def search_like_the_resolver(
    client: meilisearch.Client, index: str, query: str, *, limit: int = 5
) -> list[str]:
    """Search the folded and the Latin reading of ``query``; return the place ids found."""
    found: list[str] = []
    for text, fields in ((fold(query), CYRILLIC_FIELDS), (latin_key(query), LATIN_FIELDS)):
        options = {"limit": limit, "attributesToSearchOn": list(fields)}
        hits = client.index(index).search(text, options)
        found.extend(hit["place_id"] for hit in hits["hits"])
    return found


def index_names(client: meilisearch.Client) -> set[str]:
    """Return the uids of every index on the server."""
    return {index["uid"] for index in client.get_raw_indexes({"limit": 1000})["results"]}


def seed_place_id(seed: Gazetteer, tajik_name_part: str) -> str:
    """Return the id of the seed place whose Tajik name contains ``tajik_name_part``."""
    ids = [p.id for p in seed.places if p.name_tg and tajik_name_part in p.name_tg]
    assert ids, f"the seed has no place named like {tajik_name_part!r}"
    return ids[0]


# -- what FIELD_NOTES says raw Meilisearch cannot find ------------------------------------------


@pytest.fixture(scope="module")
def seed_index(meili: Endpoint, seed: Gazetteer) -> Iterator[str]:
    """The real seed built once into its own live index for this module."""
    assert meili.api_key is not None
    admin = MeiliAdmin(meili.url, api_key=meili.api_key.get_secret_value())
    live = "t_index_build_seed"
    build(admin, seed, live)
    yield live
    admin.wait(admin.delete_index(live))


@pytest.mark.parametrize(
    ("query", "tajik_name"),
    [
        ("Хисор", "Ҳисор"),
        ("Гафуров", "Ғафуров"),
        ("Каххоров", "Қаҳҳоров"),
        ("Рудаке", "хиёбони Рӯдакӣ"),
        ("Рудаки 45", "хиёбони Рӯдакӣ"),
        ("Rudaki", "хиёбони Рӯдакӣ"),
    ],
)
def test_finds_what_raw_meilisearch_missed(
    meili_client: meilisearch.Client, seed: Gazetteer, seed_index: str, query: str, tajik_name: str
) -> None:
    expected = seed_place_id(seed, tajik_name)
    assert expected in search_like_the_resolver(meili_client, seed_index, query)


def test_finds_rudaki_typed_in_latin_first(
    meili_client: meilisearch.Client, seed: Gazetteer, seed_index: str
) -> None:
    hits = meili_client.index(seed_index).search(
        "rudaki", {"attributesToSearchOn": list(LATIN_FIELDS)}
    )
    assert hits["hits"][0]["place_id"] == seed_place_id(seed, "хиёбони Рӯдакӣ")


def test_split_avenue_returns_its_segments_with_house_ranges(
    meili_client: meilisearch.Client, seed: Gazetteer, seed_index: str
) -> None:
    avenue = seed_place_id(seed, "хиёбони Рӯдакӣ")
    hits = meili_client.index(seed_index).search(
        fold("Рӯдакӣ"), {"filter": f"place_id = {avenue}", "limit": 50}
    )["hits"]
    segments = [PlaceDocument.model_validate(hit) for hit in hits]
    assert len(segments) > 1
    assert all(s.sector_id and s.house_start is not None for s in segments)


# -- numbers ----------------------------------------------------------------------------------


def make_building(place_id: str, house: str, **overrides: Any) -> Place:
    """Return an office at ``кӯчаи Айнӣ <house>``."""
    fields: dict[str, Any] = {
        "id": place_id,
        "kind": PlaceKind.OFFICE,
        "name_ru": f"Офис {place_id}",
        "address": Address(street="кӯчаи Айнӣ", house=house),
    }
    return Place(**{**fields, **overrides})


def small_city(seed: Gazetteer, places: Sequence[Place], links: Sequence[Link] = ()) -> Gazetteer:
    """Return a gazetteer of ``places`` with the seed's terms and sectors."""
    sector = seed.sectors[0].id
    return Gazetteer(
        places=tuple(places),
        aliases=seed.aliases.model_copy(update={"places": ()}),
        sectors=seed.sectors,
        links=tuple(links) or tuple(Link(place_id=p.id, sector_id=sector) for p in places),
    )


def test_house_number_45_does_not_match_46(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    city = small_city(seed, [make_building("nzr-9045", "45"), make_building("nzr-9046", "46")])
    build(admin, city, index_uid)
    hits = meili_client.index(index_uid).search(
        "айни 45", {"attributesToSearchOn": ["address"], "matchingStrategy": "all"}
    )["hits"]
    assert [hit["place_id"] for hit in hits] == ["nzr-9045"]


# -- safe builds ------------------------------------------------------------------------------


def rejected_document() -> PlaceDocument:
    """A document Meilisearch accepts on the wire but fails in its task (id over 511 bytes)."""
    return PlaceDocument(id="x" * 600, place_id="nzr-9999", kind="office", names=["плохой"])


def test_failed_build_leaves_the_previous_index_answering(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    build(admin, small_city(seed, [make_building("nzr-9045", "45")]), index_uid)
    bad = [
        *build_documents(small_city(seed, [make_building("nzr-9046", "46")])),
        rejected_document(),
    ]
    plan = BuildPlan(live=index_uid, settings=index_settings(seed), batch_size=1)
    with pytest.raises(TaskFailedError, match="invalid_document_id"):
        publish(admin, bad, plan, data=published_data(seed))
    hits = meili_client.index(index_uid).search("айни 45")["hits"]
    assert [hit["place_id"] for hit in hits] == ["nzr-9045"]
    assert not any(name.startswith(f"{index_uid}_build_") for name in index_names(meili_client))


class InterruptAfterFirstBatch:
    """A progress sink that presses Ctrl-C after the first batch is sent."""

    def begin(self, total: int | None) -> None:
        """Ignore the total."""

    def sent(self, count: int) -> None:
        """Interrupt the build."""
        raise KeyboardInterrupt

    def indexed(self, count: int) -> None:
        """Ignore progress."""


def test_interrupted_build_deletes_its_index_and_keeps_the_live_one(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    build(admin, small_city(seed, [make_building("nzr-9045", "45")]), index_uid)
    city = synthetic_gazetteer(300)
    plan = BuildPlan(live=index_uid, settings=index_settings(city), batch_size=100)
    with pytest.raises(KeyboardInterrupt):
        publish(
            admin,
            build_documents(city),
            plan,
            data=published_data(city),
            progress=InterruptAfterFirstBatch(),
        )
    assert admin.count_documents(index_uid) == 1
    assert not any(name.startswith(f"{index_uid}_build_") for name in index_names(meili_client))


def test_unreachable_server_fails_fast_with_a_clear_error() -> None:
    policy = RetryPolicy(attempts=3, seconds=5, first_wait_s=0.01, max_wait_s=0.05)
    admin = MeiliAdmin("http://127.0.0.1:9", api_key="unused", retry=policy)
    started = time.monotonic()
    with pytest.raises(match="did not answer"):
        admin.index_exists("anything")
    assert time.monotonic() - started < 5


def test_the_previous_version_is_kept_by_default_and_replaced_by_the_next(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    build(admin, small_city(seed, [make_building("nzr-9045", "45")]), index_uid)
    build(admin, small_city(seed, [make_building("nzr-9046", "46")]), index_uid)
    names = index_names(meili_client)
    kept = f"{index_uid}_previous"
    assert {kept, f"{index_uid}_meta_previous"} <= set(names)
    assert admin.count_documents(kept) == 1
    assert meili_client.index(kept).get_document("nzr-9045").place_id == "nzr-9045"
    assert not any("_build_" in name for name in names if name.startswith(index_uid))
    build(admin, small_city(seed, [make_building("nzr-9047", "47")]), index_uid)
    assert meili_client.index(kept).get_document("nzr-9046").place_id == "nzr-9046"
    build(admin, small_city(seed, [make_building("nzr-9048", "48")]), index_uid, keep_old=False)
    assert kept not in index_names(meili_client), "--discard-old keeps no previous version"


def test_next_build_deletes_what_a_killed_build_left_behind(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    leftover = f"{index_uid}_build_20260101_000000_000000"
    admin.wait(admin.create_index(leftover))
    build(admin, small_city(seed, [make_building("nzr-9045", "45")]), index_uid)
    assert leftover not in index_names(meili_client)
    assert admin.count_documents(index_uid) == 1


class SearchLoad:
    """Searches the live index from a thread until stopped, counting answers and failures."""

    def __init__(self, client: meilisearch.Client, index: str) -> None:
        self.client, self.index = client, index
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> SearchLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                hits = self.client.index(self.index).search("айни", {"limit": 3})["hits"]
            except MeilisearchApiError as exc:
                self.failures.append(str(exc))
                continue
            if hits:
                self.ok += 1
            else:
                self.failures.append("no hits")


def test_queries_during_rebuild_and_swap_all_succeed(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    city = small_city(seed, [make_building(f"nzr-{9000 + n}", str(n)) for n in range(1, 200)])
    build(admin, city, index_uid)
    with SearchLoad(meili_client, index_uid) as load:
        for _ in range(3):
            build(admin, city, index_uid, batch_size=50)
    assert load.failures == []
    assert load.ok > 20


# -- keys -------------------------------------------------------------------------------------


def test_search_key_searches_but_cannot_write_or_read_keys(
    admin: MeiliAdmin, meili: Endpoint, seed: Gazetteer, index_uid: str
) -> None:
    build(admin, small_city(seed, [make_building("nzr-9045", "45")]), index_uid)
    key = ensure_search_key(admin, live=index_uid)
    searcher = meilisearch.Client(meili.url, key.key.get_secret_value())
    assert searcher.index(index_uid).search("айни")["hits"]
    with pytest.raises(MeilisearchApiError) as denied:
        searcher.index(index_uid).add_documents([{"id": "evil", "names": ["x"]}])
    assert denied.value.status_code == 403
    with pytest.raises(MeilisearchApiError) as hidden:
        searcher.get_keys()
    assert hidden.value.status_code == 403


def test_search_key_is_kept_between_builds_and_changes_only_on_rotation(
    admin: MeiliAdmin, meili: Endpoint, index_uid: str
) -> None:
    first = ensure_search_key(admin, live=index_uid)
    again = ensure_search_key(admin, live=index_uid)
    rotated = ensure_search_key(admin, live=index_uid, rotate=True)
    assert again.key == first.key and again.status == "kept"
    assert rotated.key != first.key and rotated.status == "rotated"
    old = meilisearch.Client(meili.url, first.key.get_secret_value())
    with pytest.raises(MeilisearchApiError):
        old.index(index_uid).search("айни")


# -- dry run ----------------------------------------------------------------------------------


def test_dry_run_reports_changes_and_writes_nothing(
    admin: MeiliAdmin, meili_client: meilisearch.Client, seed: Gazetteer, index_uid: str
) -> None:
    sectors = [sector.id for sector in seed.sectors]
    kept, renamed, relinked, removed = (make_building(f"nzr-900{n}", str(n)) for n in range(1, 5))
    before = small_city(seed, [kept, renamed, relinked, removed])
    build(admin, before, index_uid)
    added = make_building("nzr-9005", "5")
    after_places = [kept, renamed.model_copy(update={"name_ru": "Офис новый"}), relinked, added]
    links = [Link(place_id=p.id, sector_id=sectors[0]) for p in after_places]
    links[2] = Link(place_id=relinked.id, sector_id=sectors[1])
    diff = dry_run(admin, build_documents(small_city(seed, after_places, links)), live=index_uid)
    assert [c.place_id for c in diff.added] == ["nzr-9005"]
    assert [c.place_id for c in diff.removed] == ["nzr-9004"]
    assert [c.place_id for c in diff.renamed] == ["nzr-9002"]
    assert [(c.place_id, c.after) for c in diff.relinked] == [("nzr-9003", sectors[1])]
    assert admin.count_documents(index_uid) == 4
    assert not any(name.startswith(f"{index_uid}_build_") for name in index_names(meili_client))


def test_dry_run_against_a_missing_index_lists_everything_as_added(
    admin: MeiliAdmin, seed: Gazetteer, index_uid: str
) -> None:
    city = small_city(seed, [make_building("nzr-9001", "1"), make_building("nzr-9002", "2")])
    diff = dry_run(admin, build_documents(city), live=index_uid)
    assert len(diff.added) == 2 and not admin.index_exists(index_uid)


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def external_server(meili: Endpoint, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test server (MEILI_URL + MEILI_MASTER_KEY); return the master key."""
    assert meili.api_key is not None
    master_key = meili.api_key.get_secret_value()
    monkeypatch.setenv("MEILI_URL", meili.url)
    monkeypatch.setenv("MEILI_MASTER_KEY", master_key)
    return master_key


def copy_seed(target: Path) -> Path:
    """Copy the project's seed files into ``target``; return it."""
    target.mkdir()
    for file in SEED_DIR.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    return target


def test_invalid_seed_is_refused_and_nothing_is_pushed(
    external_server: str,
    admin: MeiliAdmin,
    index_uid: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = copy_seed(tmp_path / "seed")
    links = broken / "links.yaml"
    text = links.read_text(encoding="utf-8")
    links.write_text(text.replace("sector_id: SOM-", "sector_id: XXX-", 1), encoding="utf-8")
    assert main(["build", str(broken), "--index", index_uid, "--quiet"]) == 1
    assert "links.yaml" in capsys.readouterr().err
    assert not admin.index_exists(index_uid)


def test_cli_builds_the_seed_and_prints_the_summary_without_secrets(
    external_server: str,
    admin: MeiliAdmin,
    index_uid: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["build", str(SEED_DIR), "--index", index_uid, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "docs/s" in out and "export MEILI_SEARCH_KEY=<run with --print-search-key" in out
    assert external_server not in out
    assert admin.count_documents(index_uid) >= len(load_gazetteer(SEED_DIR).places)


def test_cli_prints_the_search_key_only_when_asked(
    external_server: str, admin: MeiliAdmin, index_uid: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["build", str(SEED_DIR), "--index", index_uid, "--quiet", "--print-search-key"]) == 0
    )
    key = ensure_search_key(admin, live=index_uid).key.get_secret_value()
    assert f"export MEILI_SEARCH_KEY={key}" in capsys.readouterr().out


def test_build_stopped_with_sigterm_cleans_up_and_keeps_the_live_index(
    external_server: str, admin: MeiliAdmin, meili_client: meilisearch.Client, index_uid: str
) -> None:
    assert main(["build", str(SEED_DIR), "--index", index_uid, "--quiet"]) == 0
    before = admin.count_documents(index_uid)
    command = [sys.executable, "-m", "index_builder", "build", "--synthetic", "30000"]
    process = subprocess.Popen(
        [*command, "--batch-size", "1000", "--index", index_uid, "--quiet"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(n.startswith(f"{index_uid}_build_") for n in index_names(meili_client)):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "still serves its old data" in err
    assert admin.count_documents(index_uid) == before
    assert not any(n.startswith(f"{index_uid}_build_") for n in index_names(meili_client))
