"""The seed (``seed/``), read only by the index builder: ``models``, ``load`` and ``validate``."""
