"""Read a plus code (Open Location Code) out of a resident's text.

Map apps write addresses such as ``GPHX+CPX, кӯчаи Борбад 73, Душанбе``: the code is a location
to a few metres, so it answers better than any name. Short codes (``GPHX+CP``) are relative to a
nearby place, and the resolver recovers them relative to Dushanbe's centre.

Pure: :func:`find_plus_code` takes text and returns the code, the point it names and the text
without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openlocationcode import openlocationcode as olc

# Dushanbe's centre (Rudaki Avenue at Dusti Square): short codes are recovered relative to it.
DUSHANBE_LAT = 38.5598
DUSHANBE_LON = 68.7870
_CODE_CHARS = "23456789CFGHJMPQRVWX"
# A full code has 8 characters before "+", a short one 4 to 6; 2 or 3 may follow it.
_PLUS_CODE = re.compile(
    rf"(?<![\w+])([{_CODE_CHARS}]{{4,8}}\+[{_CODE_CHARS}]{{0,3}})(?![\w+])", re.IGNORECASE
)


@dataclass(frozen=True)
class PlusCode:
    """A plus code found in text, the point it names, and the text around it."""

    code: str  # as written, upper-cased
    latitude: float
    longitude: float
    rest: str  # the text with the code taken out


def find_plus_code(text: str) -> PlusCode | None:
    """Find a valid plus code in ``text`` and decode it (short codes near Dushanbe).

    Example:
        >>> found = find_plus_code("GPHX+CPX, кӯчаи Борбад 73, Душанбе")
        >>> found.code, round(found.latitude, 3), round(found.longitude, 3)
        ('GPHX+CPX', 38.529, 68.749)
    """
    for match in _PLUS_CODE.finditer(text):
        code = match.group(1).upper()
        if not olc.isValid(code):
            continue
        full = olc.recoverNearest(code, DUSHANBE_LAT, DUSHANBE_LON) if olc.isShort(code) else code
        area = olc.decode(full)
        rest = (text[: match.start()] + " " + text[match.end() :]).strip(" ,;")
        return PlusCode(code, area.latitudeCenter, area.longitudeCenter, rest)
    return None
