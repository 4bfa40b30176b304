"""Documents, settings, the dry-run diff and the synthetic city, all offline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from index_builder.diff import diff_documents
from index_builder.documents import TypeWords, build_documents, count_documents, popularity
from index_builder.index_settings import build_synonyms, index_settings
from index_builder.publish import batch_payload
from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from index_builder.seed.models import Address, Aliases, AliasKind, Gazetteer, Place, PlaceAlias
from index_builder.synthetic import synthetic_gazetteer
from resolver.gazetteer import (
    AddressTerm,
    District,
    HouseRange,
    Link,
    Officer,
    PlaceKind,
    Sector,
    TermClass,
)
from resolver.index_schema import PlaceDocument, segment_id, split_choice_id
from resolver.sectors import SectorDirectory
from resolver.text.fold import fold
from resolver.text.latin import latin_key
from search_platform.settings import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "seed"
TERMS = (
    AddressTerm(term_class=TermClass.STREET, spellings=("кӯчаи", "кӯча", "улица", "ул.", "street")),
    AddressTerm(term_class=TermClass.AVENUE, spellings=("хиёбони", "проспект", "пр-т", "avenue")),
    AddressTerm(term_class=TermClass.DISTRICT, spellings=("ноҳияи", "район", "district")),
    AddressTerm(term_class=TermClass.MARKET, spellings=("бозори", "рынок", "bazaar")),
)


def make_place(**overrides: Any) -> Place:
    """Return a valid place; override any field."""
    fields: dict[str, Any] = {
        "id": "dyu-0100",
        "kind": PlaceKind.STREET,
        "name_tg": "кӯчаи Айнӣ",
        "name_ru": "улица Айни",
        "name_en": "Ayni Street",
        "districts": (District.SHOHMANSUR,),
        "confidence": "high",
    }
    return Place(**{**fields, **overrides})


def make_sector(sector_id: str = "SHM-01") -> Sector:
    """Return a fictional sector with a fictional officer."""
    officer = Officer(
        name_tg="Фирӯз Раҳимов",
        name_ru="Фируз Рахимов",
        name_en="Firuz Rahimov",
        rank="captain",
        phone="+992 00 123 45 67",
        reception_hours="Tue 17:00-20:00",
    )
    return Sector(
        id=sector_id,
        district=District.SHOHMANSUR,
        name=sector_id,
        office_address_tg="кӯчаи Айнӣ 1",
        office_address_ru="ул. Айни 1",
        office_address_en="Aini Street, 1",
        officer=officer,
    )


def make_gazetteer(
    places: tuple[Place, ...] = (),
    links: tuple[Link, ...] = (),
    aliases: tuple[PlaceAlias, ...] = (),
) -> Gazetteer:
    """Return a gazetteer of the given places, linked to sectors as given (or one sector each)."""
    places = places or (make_place(),)
    links = links or tuple(Link(place_id=p.id, sector_id="SHM-01") for p in places)
    sectors = tuple(make_sector(sid) for sid in sorted({link.sector_id for link in links}))
    return Gazetteer(
        places=places,
        aliases=Aliases(places=aliases, terms=TERMS),
        sectors=sectors,
        links=links,
    )


def only(documents: list[PlaceDocument]) -> PlaceDocument:
    """Return the single document of a one-place build."""
    assert len(documents) == 1
    return documents[0]


def split_street_links(place_id: str = "dyu-0100") -> tuple[Link, ...]:
    """Return three house-range links of one street over two sectors."""
    return (
        Link(place_id=place_id, sector_id="SHM-02", houses=HouseRange(start=51)),
        Link(
            place_id=place_id, sector_id="SHM-01", houses=HouseRange(start=1, end=49, parity="odd")
        ),
        Link(
            place_id=place_id, sector_id="SHM-01", houses=HouseRange(start=2, end=50, parity="even")
        ),
    )


def test_single_sector_place_gets_its_sector_directly() -> None:
    document = only(build_documents(make_gazetteer()))
    assert (document.id, document.sector_id, document.sector_ids) == (
        "dyu-0100",
        "SHM-01",
        ["SHM-01"],
    )
    assert document.segment is None and document.house_start is None


def test_split_street_gets_one_document_per_house_range_in_file_order() -> None:
    documents = build_documents(make_gazetteer(links=split_street_links()))
    assert [d.id for d in documents] == ["dyu-0100--1", "dyu-0100--2", "dyu-0100--3"]
    assert [(d.house_start, d.house_end, d.house_parity) for d in documents] == [
        (51, None, "all"),
        (1, 49, "odd"),
        (2, 50, "even"),
    ]
    assert [d.sector_id for d in documents] == ["SHM-02", "SHM-01", "SHM-01"]
    assert all(d.sector_ids == ["SHM-01", "SHM-02"] for d in documents)
    assert all(d.place_id == "dyu-0100" and d.names == documents[0].names for d in documents)


def test_segment_documents_are_numbered_as_the_resolver_numbers_links() -> None:
    gazetteer = make_gazetteer(links=split_street_links())
    links = SectorDirectory(published_data(gazetteer)).links_for("dyu-0100")
    for document in build_documents(gazetteer):
        place_id, segment = split_choice_id(document.id)
        assert segment is not None and document.id == segment_id(place_id, segment)
        assert document.sector_id == links[segment - 1].sector_id
        assert document.house_start == links[segment - 1].houses.start  # type: ignore[union-attr]


def test_segments_are_numbered_from_one() -> None:
    documents = build_documents(make_gazetteer(links=split_street_links()))
    assert [d.segment for d in documents] == [1, 2, 3]


def test_unlinked_place_still_gets_a_document_without_sector() -> None:
    gazetteer = make_gazetteer().model_copy(update={"links": ()})
    document = only(build_documents(gazetteer))
    assert document.sector_id is None and document.sector_ids == []


@pytest.mark.parametrize(
    ("name_tg", "expected"),
    [
        ("хиёбони Рӯдакӣ", ["рудаки", "хиебони рудаки"]),
        ("кӯчаи Бобоҷон Ғафуров", ["бобочон гафуров", "кучаи бобочон гафуров"]),
        ("Ҳисор", ["хисор"]),
        ("кӯчаи Қаҳҳоров", ["каххоров", "кучаи каххоров"]),
    ],
)
def test_names_hold_bare_names_first_then_full_folded_names(
    name_tg: str, expected: list[str]
) -> None:
    place = make_place(name_tg=name_tg, name_ru=None, name_en=None)
    assert only(build_documents(make_gazetteer((place,)))).names == expected


def test_names_cover_every_language_and_are_unique() -> None:
    document = only(build_documents(make_gazetteer()))
    assert document.names == ["айни", "ayni", "кучаи айни", fold("улица Айни"), "ayni street"]


def test_type_word_at_the_end_is_stripped_too() -> None:
    place = make_place(name_tg=None, name_ru=None, name_en="Rudaki Avenue")
    assert only(build_documents(make_gazetteer((place,)))).names == ["rudaki", "rudaki avenue"]


def test_name_that_is_only_a_type_word_is_kept() -> None:
    assert TypeWords.from_terms(TERMS).strip("улица") == "улица"


def test_abbreviated_type_word_with_a_dot_is_stripped() -> None:
    assert TypeWords.from_terms(TERMS).strip(fold("ул. Айни")) == "айни"


def test_market_word_is_not_stripped() -> None:
    assert TypeWords.from_terms(TERMS).strip(fold("бозори Шоҳмансур")) == "бозори шохмансур"


def test_latin_fields_hold_the_latin_key_of_each_search_form() -> None:
    place = make_place(name_tg="хиёбони Рӯдакӣ", name_ru=None, name_en=None)
    document = only(build_documents(make_gazetteer((place,))))
    assert document.names_latin == ["rudaki", latin_key("хиёбони рӯдакӣ")]
    assert latin_key("Rudaki") in document.names_latin


def test_aliases_hold_old_alt_derived_and_seed_aliases_folded_with_latin() -> None:
    place = make_place(
        old_names=("улица Ленина",), alt_names=("Аини",), derived_names=("Айни кӯча",)
    )
    alias = PlaceAlias(place_id=place.id, alias="Садриддин Айнӣ", kind=AliasKind.INFORMAL)
    document = only(build_documents(make_gazetteer((place,), aliases=(alias,))))
    assert document.aliases == [
        "ленина",
        "аини",
        "садриддин айни",
        fold("улица Ленина"),
        "айни куча",
    ]
    assert document.aliases_latin == [latin_key(a) for a in document.aliases]


def test_alias_equal_to_a_name_is_not_repeated_in_aliases() -> None:
    place = make_place(alt_names=("Айни",))
    assert only(build_documents(make_gazetteer((place,)))).aliases == []


def test_building_address_is_folded_street_and_house() -> None:
    place = make_place(
        id="dyu-0200",
        kind=PlaceKind.MALL,
        name_tg=None,
        name_ru="ЦУМ",
        name_en=None,
        address=Address(street="пр. Рӯдакӣ", house="83"),
    )
    assert only(build_documents(make_gazetteer((place,)))).address == "пр рудаки 83"


def test_address_street_type_word_is_stripped() -> None:
    place = make_place(kind=PlaceKind.OFFICE, address=Address(street="кӯчаи Айнӣ", house="45/1"))
    assert only(build_documents(make_gazetteer((place,)))).address == "айни 45/1"


def test_geo_point_only_with_both_coordinates() -> None:
    with_geo = make_place(lat=38.57, lon=68.78)
    without = make_place(id="dyu-0101", lat=38.57)
    documents = build_documents(make_gazetteer((with_geo, without)))
    assert documents[0].geo is not None and (documents[0].geo.lat, documents[0].geo.lng) == (
        38.57,
        68.78,
    )
    assert documents[1].geo is None
    assert documents[0].model_dump(by_alias=True)["_geo"] == {"lat": 38.57, "lng": 68.78}


def test_district_codes_are_strings_the_seeds_first_then_those_of_linked_sectors() -> None:
    place = make_place(districts=(District.SINO, District.FIRDAVSI))
    gazetteer = make_gazetteer((place,))
    linked = {sector.district.value for sector in gazetteer.sectors}
    district = only(build_documents(gazetteer)).district
    assert district[:2] == ["sino", "firdavsi"]
    assert set(district) == {"sino", "firdavsi", *linked}


def test_avenue_and_market_outrank_an_office() -> None:
    avenue = popularity(make_place(kind=PlaceKind.AVENUE), extra_names=0)
    market = popularity(make_place(kind=PlaceKind.MARKET), extra_names=0)
    office = popularity(make_place(kind=PlaceKind.OFFICE), extra_names=0)
    assert avenue > market > office


def test_popularity_grows_with_confidence_and_known_names_and_stays_in_range() -> None:
    low = popularity(make_place(confidence="low"), extra_names=0)
    high = popularity(make_place(confidence="high"), extra_names=0)
    famous = popularity(make_place(kind=PlaceKind.AVENUE, lat=38.5, lon=68.7), extra_names=50)
    assert low < high < famous <= 100


def test_synonyms_link_abbreviation_both_ways_in_both_scripts() -> None:
    avenue = make_place(
        kind=PlaceKind.AVENUE, name_tg="хиёбони Исмоили Сомонӣ", name_ru=None, name_en=None
    )
    alias = PlaceAlias(place_id=avenue.id, alias="И. Сомони", kind=AliasKind.ABBREVIATION)
    synonyms = build_synonyms(make_gazetteer((avenue,), aliases=(alias,)))
    assert synonyms["и сомони"] == ["исмоили сомони"]
    assert synonyms["исмоили сомони"] == ["и сомони"]
    assert synonyms["ismoili somoni"] == ["i somoni"]


def test_synonyms_never_mix_cyrillic_and_latin() -> None:
    alias = PlaceAlias(place_id="dyu-0100", alias="Clara Zetkin", kind=AliasKind.OLD)
    synonyms = build_synonyms(make_gazetteer(aliases=(alias,)))
    assert synonyms == {"clara zetkin": ["ayni"], "klara zetkin": ["aini"]}


def test_single_word_informal_alias_gets_no_synonym() -> None:
    alias = PlaceAlias(place_id="dyu-0100", alias="Аини", kind=AliasKind.INFORMAL)
    assert build_synonyms(make_gazetteer(aliases=(alias,))) == {}


def test_multi_word_old_name_points_one_way_to_the_current_name() -> None:
    alias = PlaceAlias(place_id="dyu-0100", alias="улица Ленина Старая", kind=AliasKind.OLD)
    synonyms = build_synonyms(make_gazetteer(aliases=(alias,)))
    assert synonyms["ленина старая"] == ["айни"]
    assert synonyms[latin_key("ленина старая")] == ["aini"]
    assert "айни" not in synonyms


def test_alias_shared_by_two_places_gets_no_synonym() -> None:
    first, second = make_place(), make_place(id="dyu-0101", name_tg="кӯчаи Борбад")
    aliases = tuple(
        PlaceAlias(place_id=p.id, alias="Старый Город", kind=AliasKind.INFORMAL)
        for p in (first, second)
    )
    assert build_synonyms(make_gazetteer((first, second), aliases=aliases)) == {}


def test_synonym_source_longer_than_three_words_is_skipped() -> None:
    alias = PlaceAlias(
        place_id="dyu-0100", alias="улица имени писателя Садриддина Айни", kind=AliasKind.OLD
    )
    assert build_synonyms(make_gazetteer(aliases=(alias,))) == {}


def test_settings_never_typo_match_numbers_and_rank_popularity_last() -> None:
    settings = index_settings(make_gazetteer())
    assert settings["typoTolerance"]["disableOnNumbers"] is True  # type: ignore[index]
    assert settings["rankingRules"][-1] == "popularity:desc"  # type: ignore[index]
    assert settings["searchableAttributes"][0] == "names"  # type: ignore[index]


def test_dry_run_diff_reports_added_removed_renamed_and_relinked() -> None:
    kept = make_place(id="dyu-0001")
    renamed = make_place(id="dyu-0002", name_tg="кӯчаи Борбад")
    relinked = make_place(id="dyu-0003", name_tg="кӯчаи Сино")
    removed = make_place(id="dyu-0004", name_tg="кӯчаи Лоҳутӣ")
    added = make_place(id="dyu-0005", name_tg="кӯчаи Шерозӣ")
    before = make_gazetteer((kept, renamed, relinked, removed))
    after = make_gazetteer(
        (kept, renamed.model_copy(update={"name_tg": "хиёбони Борбад"}), relinked, added),
        links=(
            Link(place_id="dyu-0001", sector_id="SHM-01"),
            Link(place_id="dyu-0002", sector_id="SHM-01"),
            *split_street_links("dyu-0003"),
            Link(place_id="dyu-0005", sector_id="SHM-01"),
        ),
    )
    diff = diff_documents(build_documents(before), build_documents(after))
    assert [c.place_id for c in diff.added] == ["dyu-0005"]
    assert [c.place_id for c in diff.removed] == ["dyu-0004"]
    assert [(c.place_id, c.before, c.after) for c in diff.renamed] == [
        (
            "dyu-0002",
            "кӯчаи Борбад | улица Айни | Ayni Street",
            "хиёбони Борбад | улица Айни | Ayni Street",
        )
    ]
    assert [(c.place_id, c.before) for c in diff.relinked] == [("dyu-0003", "SHM-01")]
    assert "SHM-02 [51- all]" in diff.relinked[0].after
    assert diff.unchanged == 1


def test_dry_run_diff_of_identical_builds_lists_nothing() -> None:
    documents = build_documents(make_gazetteer(links=split_street_links()))
    diff = diff_documents(documents, documents)
    assert not (diff.added or diff.removed or diff.renamed or diff.relinked)
    assert diff.unchanged == 1 and diff.lines() == []


# -- the synthetic city -----------------------------------------------------------------------


def test_synthetic_city_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    first, again, other = (synthetic_gazetteer(200, seed=s) for s in (7, 7, 8))
    assert first == again
    assert first.places != other.places


def test_synthetic_city_passes_the_gazetteer_models_validation() -> None:
    city = synthetic_gazetteer(2000)
    assert Gazetteer.model_validate(city.model_dump()) == city
    assert len({place.id for place in city.places}) == 2000
    assert all(place.id.startswith("syn-") for place in city.places)


def test_synthetic_city_links_every_place_and_splits_streets_without_gaps() -> None:
    city = synthetic_gazetteer(2000)
    by_place: dict[str, list[Link]] = {}
    for link in city.links:
        by_place.setdefault(link.place_id, []).append(link)
    assert set(by_place) == {place.id for place in city.places}
    split = [links for links in by_place.values() if len(links) > 1]
    assert split, "some streets must be split over sectors"
    for links in split:
        ranges = [link.houses for link in links]
        assert all(r is not None for r in ranges)
        starts = [r.start for r in ranges if r is not None]
        ends = [r.end for r in ranges if r is not None]
        assert starts[0] == 1 and ends[-1] is None
        assert all(e is not None and e + 1 == s for e, s in zip(ends[:-1], starts[1:], strict=True))


def test_synthetic_city_names_use_tajik_letters_with_russian_and_latin_spellings() -> None:
    streets = [p for p in synthetic_gazetteer(500).places if p.kind is PlaceKind.STREET]
    assert any(set("ҳқғҷӣӯ") & set(p.name_tg or "") for p in streets)
    assert all(p.name_ru and p.name_ru.startswith("улица ") for p in streets)
    assert all(p.name_en and p.name_en.isascii() for p in streets)


def test_synthetic_documents_count_matches_the_prediction() -> None:
    city = synthetic_gazetteer(1000)
    assert len(build_documents(city)) == count_documents(city) > 1000


# -- the real seed ----------------------------------------------------------------------------


def test_every_seed_document_is_a_valid_place_document_with_a_unique_id() -> None:
    documents = build_documents(load_gazetteer(SEED_DIR))
    for document in documents:
        assert PlaceDocument.model_validate(document.model_dump(by_alias=True)) == document
    assert len({document.id for document in documents}) == len(documents)


def test_batch_json_has_geo_by_alias_and_no_nulls() -> None:
    documents = build_documents(load_gazetteer(SEED_DIR))
    payload = json.loads(batch_payload(documents))
    assert payload == [
        d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in documents
    ]
    assert all(
        "_geo" in row for row, d in zip(payload, documents, strict=True) if d.geo is not None
    )
    assert all(None not in row.values() for row in payload)
