"""Plug the real resolver into the bot's ports.

The resolver raises :class:`resolver.errors.MeiliUnavailable` when Meilisearch is down or slow;
the bot's handlers only know :class:`bot.ports.ServiceUnavailableError`. This is the one place the
two meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.ports import ServiceUnavailableError
from resolver.errors import MeiliUnavailable
from resolver.gazetteer import Sector
from resolver.models import HouseNumber, Resolution
from resolver.service import AwaitingResolver


@dataclass(frozen=True)
class MeiliPlaceResolver:
    """A :class:`bot.ports.PlaceResolver`: the awaiting resolver, with the bot's errors.

    The pipeline runs on the bot's event loop and only the searches are awaited, so no thread
    hands work back and forth and a query past its deadline is cancelled, not left running.
    """

    resolver: AwaitingResolver

    async def resolve(self, text: str) -> Resolution:
        """Resolve ``text``, mapping Meilisearch outages to :class:`ServiceUnavailableError`."""
        try:
            return await self.resolver.resolve(text)
        except MeiliUnavailable as exc:
            raise ServiceUnavailableError(str(exc)) from exc

    async def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a pressed choice (from the seed alone: no search)."""
        return self.resolver.choose(choice_id, house=house, lang=lang)

    async def aclose(self) -> None:
        """Close the search session."""
        await self.resolver.aclose()


@dataclass(frozen=True)
class FollowingSectors:
    """A :class:`bot.ports.SectorLocator` over the sectors of the version being served now."""

    resolver: AwaitingResolver

    def sector_at(self, lat: float, lon: float) -> Sector | None:
        """Return the sector holding the point in the served version, or None."""
        return self.resolver.directory.sector_at(lat, lon)

    def is_in_dushanbe(self, lat: float, lon: float) -> bool:
        """Tell whether the point lies within the city the served version covers."""
        return self.resolver.directory.is_in_dushanbe(lat, lon)

    def data_date(self) -> datetime:
        """When the served version was built (for /about)."""
        return self.resolver.pipeline.current().version.built_at
