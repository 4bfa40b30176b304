"""The text pipeline: pure functions from a resident's text to searchable words.

::

    fold.py            fold(): the one Cyrillic search form (index time and query time), script_of()
    latin.py           latin_key(): the ASCII key every romanisation of a name meets in
    layout.py          fix_layout(): text typed on the wrong keyboard layout
    layout_bigrams.py  generated letter-pair counts for layout.py
    distance.py        edit_distance() for typo matching
    vocabulary.py      the address words of seed/terms.yaml, as a lookup, built from the seed
    parse.py           parse_query(): name, house number and address words of one query

No file I/O, no environment, no clock: values in, values out.
"""
