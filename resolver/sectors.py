"""Which (fictional) inspector sector a place, a house or a point belongs to.

:class:`SectorDirectory` is built once from the published data and answers
lookups without I/O: a sector by id, the links of a place, the sector of a place and house
number (split streets pick the house range that holds the number), and the sector whose
polygon holds a point (an STRtree over the sector polygons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from resolver.errors import SectorShapeError
from resolver.gazetteer import Link, Sector
from resolver.published import PublishedData

# A point on an edge shared by two polygons can miss both in floating point; accept the
# nearest polygon within this distance (degrees, about 0.1 m).
EDGE_TOLERANCE = 1e-6


class SectorDirectory:
    """Look up sectors by id, by place (and house number) and by coordinates."""

    def __init__(self, data: PublishedData) -> None:
        """Index the published sectors, links and sector polygons."""
        self._sectors = {sector.id: sector for sector in data.sectors}
        self._links = group_links(data.links)
        self._polygon_ids, polygons = polygons_of(data.boundaries, self._sectors)
        self._tree = shapely.STRtree(polygons)
        self._city = shapely.union_all(polygons) if polygons else None
        if self._city is not None:
            shapely.prepare(self._city)

    def sector(self, sector_id: str) -> Sector | None:
        """Return the sector with this id, or None."""
        return self._sectors.get(sector_id)

    def sectors(self) -> tuple[Sector, ...]:
        """Return every sector."""
        return tuple(self._sectors.values())

    def links_for(self, place_id: str) -> tuple[Link, ...]:
        """Return a place's links in file order (several for a split street)."""
        return self._links.get(place_id, ())

    def sector_for_place(self, place_id: str, house: int | None = None) -> Sector | None:
        """Return the sector of a place, picking the house range that holds ``house``.

        None when the place has no link, or it is a split street and ``house`` is None or
        outside every range.
        """
        links = self.links_for(place_id)
        if len(links) == 1 and links[0].houses is None:
            return self.sector(links[0].sector_id)
        if house is None:
            return None
        for link in links:
            if link.houses is not None and link.houses.contains(house):
                return self.sector(link.sector_id)
        return None

    def sector_at(self, lat: float, lon: float) -> Sector | None:
        """Return the sector whose polygon holds the point, or None outside every sector."""
        if self._city is None:  # data without sector polygons
            return None
        point = Point(lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if not len(hits):
            hits = self._tree.query_nearest(point, max_distance=EDGE_TOLERANCE)
        if not len(hits):
            return None
        return self._sectors[self._polygon_ids[int(min(hits))]]

    def is_in_dushanbe(self, lat: float, lon: float) -> bool:
        """Tell whether the point lies inside the area the sectors cover."""
        if self._city is None:
            return False
        point = Point(lon, lat)
        return bool(self._city.intersects(point) or self._city.distance(point) <= EDGE_TOLERANCE)


def group_links(links: Sequence[Link]) -> dict[str, tuple[Link, ...]]:
    """Group links by place id, keeping file order."""
    grouped: dict[str, list[Link]] = {}
    for link in links:
        grouped.setdefault(link.place_id, []).append(link)
    return {place_id: tuple(items) for place_id, items in grouped.items()}


def polygons_of(
    boundaries: Mapping[str, Mapping[str, object]], sectors: Mapping[str, Sector]
) -> tuple[list[str], list[BaseGeometry]]:
    """Return the ids and shapely geometries of the polygons of known sectors."""
    ids: list[str] = []
    polygons: list[BaseGeometry] = []
    for sector_id, geometry in boundaries.items():
        if sector_id in sectors:
            ids.append(sector_id)
            polygons.append(read_polygon(sector_id, geometry))
    return ids, polygons


def read_polygon(sector_id: str, geometry: Mapping[str, object]) -> BaseGeometry:
    """Turn a GeoJSON geometry into a shapely one.

    Raises:
        SectorShapeError: the coordinates do not form a polygon; says which sector and what to run.
    """
    try:
        return shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, ShapelyError) as exc:
        raise SectorShapeError(
            f"the polygon of sector {sector_id} in sectors.geojson cannot be read ({exc}); "
            "run `python -m index_builder validate` to see every seed problem"
        ) from exc
