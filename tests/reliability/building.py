"""Build the real seed into a Meilisearch index and connect the real resolver and bot to it."""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
from pydantic import SecretStr

from bot.__main__ import compose_services
from bot.adapters import FollowingSectors, MeiliPlaceResolver
from bot.handlers import BotServices
from bot.settings import BotSettings
from index_builder.admin import MeiliAdmin, RetryPolicy
from index_builder.documents import build_documents
from index_builder.index_settings import index_settings
from index_builder.keys import ensure_search_key
from index_builder.publish import BuildPlan, publish
from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer, load_seed
from resolver.backend import SearchQuery
from resolver.meili import MeiliBackend, MeiliPublishedReader
from resolver.models import HouseNumber, Resolution, Status
from resolver.service import AwaitingResolver, Resolver, vocabulary_for
from resolver.snapshots import Snapshots
from resolver.text.fold import fold
from resolver.text.parse import parse_query
from resolver.text.vocabulary import Vocabulary
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "seed"


def admin_for(endpoint: Endpoint, *, retry: RetryPolicy | None = None) -> MeiliAdmin:
    """Return the index builder's admin adapter holding the endpoint's (master) key."""
    key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
    return MeiliAdmin(endpoint.url, api_key=key, retry=retry)


def publish_seed_with(admin: MeiliAdmin, *, live: str, seed_dir: Path = SEED_DIR) -> SecretStr:
    """Publish ``seed_dir`` as ``live`` through ``admin``; return the search-only key."""
    loaded = load_seed(seed_dir)
    gazetteer = loaded.gazetteer
    plan = BuildPlan(live=live, settings=index_settings(gazetteer))
    data = published_data(gazetteer, seed_hash=loaded.seed_hash)
    publish(admin, build_documents(gazetteer), plan, data=data)
    return ensure_search_key(admin, live=live).key


def publish_seed(endpoint: Endpoint, *, live: str, seed_dir: Path = SEED_DIR) -> SecretStr:
    """Publish ``seed_dir`` as ``live`` with the index builder; return the search-only key."""
    return publish_seed_with(admin_for(endpoint), live=live, seed_dir=seed_dir)


def make_resolver(
    url: str, key: SecretStr, *, live: str, timeout_s: float = 2.0
) -> tuple[Resolver, MeiliBackend]:
    """Connect the real resolver to ``url`` with the search key (the caller closes the backend).

    The resolver reads the published data of ``live`` once (no seed), as a fixed pipeline.
    """
    reader = MeiliPublishedReader(url, api_key=key.get_secret_value(), live=live, timeout_s=10)
    try:
        pipeline = Snapshots.load(reader).current()
    finally:
        reader.close()
    backend = MeiliBackend(url, api_key=key.get_secret_value(), index=live, timeout_s=timeout_s)
    return Resolver(backend, pipeline), backend


def real_services(
    resolver: Resolver,
    backend: MeiliBackend,
    *,
    data_dir: Path,
    per_minute: int = 600,
    reply_deadline_s: float = 2.5,
) -> BotServices:
    """The bot's services around the real resolver, composed as ``python -m bot`` does."""
    settings = BotSettings(
        bot_queries_per_minute=per_minute,
        bot_reply_deadline_s=reply_deadline_s,
        noziri_data_dir=data_dir,
    )
    awaiting = AwaitingResolver(backend.asynchronous(), resolver.pipeline)
    sectors = FollowingSectors(awaiting)
    return compose_services(
        settings, MeiliPlaceResolver(awaiting), sectors, data_date=sectors.data_date
    )


# One word in each script whose first query makes Meilisearch load a dictionary (seconds).
DICTIONARY_SCRIPTS = ("東京タワー", "서울", "北京市")


def warm_up(endpoint: Endpoint, key: SecretStr, *, live: str) -> None:
    """Make Meilisearch load its lazily loaded tokenizer dictionaries, with a patient timeout."""
    backend = MeiliBackend(endpoint.url, api_key=key.get_secret_value(), index=live, timeout_s=60)
    try:
        backend.search_many([SearchQuery(text=text) for text in DICTIONARY_SCRIPTS])
    finally:
        backend.close()


@dataclass(frozen=True)
class SampledResolver:
    """Answer at once with real candidates, for fuzzing the bot faster than Meilisearch allows.

    The verdict and the places are picked from a hash of the text; candidates come from the real
    resolver's :meth:`~resolver.service.Resolver.choose` (real names, sectors, inspectors), the
    house number from the real parser, and the query is the text itself: everything the resident
    typed reaches the reply the way a real answer carries it.
    """

    resolver: Resolver
    vocabulary: Vocabulary
    place_ids: tuple[str, ...]

    @classmethod
    def over(cls, resolver: Resolver) -> SampledResolver:
        """Sample among every place of the seed."""
        data = resolver.pipeline.current().data
        ids = tuple(place.id for place in data.places)
        return cls(resolver, vocabulary_for(data), ids)

    async def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a pressed choice with the real resolver (no search involved)."""
        return self.resolver.choose(choice_id, house=house, lang=lang)

    async def aclose(self) -> None:
        """Nothing to close: no search."""

    async def resolve(self, text: str) -> Resolution:
        """Return a not-found, resolved or ambiguous answer to ``text``."""
        digest = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        verdict = digest % 3
        if verdict == 0:
            return Resolution(query=text, status=Status.NOT_FOUND, reading=text[:200])
        count = 1 if verdict == 1 else 2 + digest % 4
        picks = [self.place_ids[(digest + 7919 * k) % len(self.place_ids)] for k in range(count)]
        candidates = tuple(c for pick in picks for c in self.resolver.choose(pick).candidates)[:5]
        single = len(candidates) == 1 and candidates[0].sector is not None
        return Resolution(
            query=text,
            status=Status.RESOLVED if single else Status.AMBIGUOUS,
            house=parse_query(text, self.vocabulary).house,
            candidates=candidates,
            reading=text[:200],
        )


@dataclass(frozen=True)
class Answer:
    """What a query returns: the resolver's verdict and the raw search hits behind it."""

    resolution: Resolution
    hits: tuple[str, ...]


def answer(resolver: Resolver, backend: MeiliBackend, name: str) -> Answer:
    """Resolve ``name`` and search it raw, as one observation."""
    raw = backend.search_many([SearchQuery(text=fold(name), limit=20)])  # as the index is folded
    return Answer(resolver.resolve(name), tuple(hit.document.id for hit in raw[0]))


def seed_names(*, count: int) -> list[str]:
    """Names of places from the seed, spread over the file."""
    names = [place.name_ru for place in load_gazetteer(SEED_DIR).places if place.name_ru]
    return names[:: max(1, len(names) // count)][:count]


def master_get(endpoint: Endpoint, path: str, **params: Any) -> Any:
    """GET ``path`` with the endpoint's (master) key and return the JSON."""
    assert endpoint.api_key is not None
    response = httpx.get(
        endpoint.url + path,
        params=params,
        headers={"Authorization": f"Bearer {endpoint.api_key.get_secret_value()}"},
    )
    response.raise_for_status()
    return response.json()


class ThreadedLoad:
    """Threads running :meth:`work` from ``with`` entry until exit (the load of a reliability test).

    Subclasses implement ``work`` (loop until ``self.stop`` is set) and note problems in
    ``self.failures`` under ``self.lock``.
    """

    def __init__(self, *, threads: int) -> None:
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.work) for _ in range(threads)]

    def work(self) -> None:
        """Put load on the system until ``self.stop`` is set."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
