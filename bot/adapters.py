"""Plug the real resolver into the bot's ports.

The resolver raises :class:`resolver.errors.MeiliUnavailable` when Meilisearch is down or slow;
the bot's handlers only know :class:`bot.ports.ServiceUnavailableError`. This is the one place the
two meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import PlaceResolver, ServiceUnavailableError
from resolver.errors import MeiliUnavailable
from resolver.models import HouseNumber, Resolution


@dataclass(frozen=True)
class MeiliPlaceResolver:
    """A :class:`bot.ports.PlaceResolver` over ``resolver.service.Resolver``."""

    resolver: PlaceResolver

    def resolve(self, text: str) -> Resolution:
        """Resolve ``text``, mapping Meilisearch outages to :class:`ServiceUnavailableError`."""
        try:
            return self.resolver.resolve(text)
        except MeiliUnavailable as exc:
            raise ServiceUnavailableError(str(exc)) from exc

    def choose(
        self, choice_id: str, *, house: HouseNumber | None = None, lang: str = "ru"
    ) -> Resolution:
        """Resolve a pressed choice, mapping outages like :meth:`resolve`."""
        try:
            return self.resolver.choose(choice_id, house=house, lang=lang)
        except MeiliUnavailable as exc:
            raise ServiceUnavailableError(str(exc)) from exc
