"""What the bot needs from the rest of Noziri, as Protocols.

The bot depends on these roles only; ``bot/__main__.py`` plugs in the real resolver and sector
directory (see :mod:`bot.adapters`), and the tests plug in small fakes.

Exceptions:
    ServiceUnavailableError: the search service is down or too slow; the user is told to retry.
"""

from __future__ import annotations

from typing import Protocol

from resolver.gazetteer import Sector
from resolver.models import HouseNumber, Resolution


class ServiceUnavailableError(Exception):
    """The resolver cannot answer now (Meilisearch down or slow); retrying later may work."""


class PlaceResolver(Protocol):
    """Turns a resident's text into a :class:`Resolution`, on the bot's event loop."""

    async def resolve(self, text: str) -> Resolution:
        """Resolve ``text``; raise ServiceUnavailableError when search is down."""
        ...

    async def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a pressed choice: a place id (a split street: its segments) or a segment id."""
        ...

    async def aclose(self) -> None:
        """Release connections when the bot stops (searching later reopens them)."""
        ...


class SectorLocator(Protocol):
    """Finds the sector whose polygon holds a point."""

    def sector_at(self, lat: float, lon: float) -> Sector | None:
        """Return the sector holding the point, or None."""
        ...

    def is_in_dushanbe(self, lat: float, lon: float) -> bool:
        """Tell whether the point lies within the city."""
        ...
