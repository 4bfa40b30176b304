"""The Alembic migrations build exactly the models' schema, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from reports.database import (
    alembic_config,
    head_revision,
    make_engine,
    migrate,
    schema_lock,
    schema_revision,
)
from reports.model import StaffScope
from reports.ports import DatabaseUnavailable
from reports.store import open_store
from reports.tables import Base
from tests.reports.conftest import RESIDENT, SECTOR_CHAT, Clock, MakeDraft

HOUR = timedelta(hours=1)


def schema_differences(database_url: str) -> list[object]:
    """What autogenerate would write for the database at hand (empty: nothing differs)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    open_store(database_url).close()
    assert schema_differences(database_url) == []


def test_open_store_upgrades_to_the_head_and_again_changes_nothing(database_url: str) -> None:
    open_store(database_url).close()
    store = open_store(database_url)
    try:
        assert schema_revision(store.engine) == head_revision() is not None
    finally:
        store.close()


def test_the_migrations_go_down_to_nothing_and_back_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with schema_lock(engine) as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        assert schema_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert schema_differences(database_url) == []


def test_a_database_newer_than_the_code_is_refused_with_what_to_do(database_url: str) -> None:
    open_store(database_url).close()
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fff9'"))
    engine.dispose()
    with pytest.raises(DatabaseUnavailable, match="newer than this version"):
        open_store(database_url)


def test_an_outbox_owed_before_0002_keeps_its_messages_through_the_upgrade(
    database_url: str, make_draft: MakeDraft, clock: Clock
) -> None:
    store = open_store(database_url)
    try:
        code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=HOUR)
        store.link(code, chat_id=SECTOR_CHAT, now=clock.now)
        store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now)
        with schema_lock(store.engine) as connection:
            command.downgrade(alembic_config(connection), "0001")
    finally:
        store.close()
    upgraded = open_store(database_url)  # opening upgrades to the head
    try:
        (owed,) = upgraded.claim_due(now=clock.now, owner="worker", lease=HOUR)
        assert (owed.chat_id, owed.parts_sent, owed.status) == (SECTOR_CHAT, 0, None)
    finally:
        upgraded.close()


def test_an_outbox_owed_before_0003_keeps_its_messages_and_any_worker_claims_them(
    database_url: str, make_draft: MakeDraft, clock: Clock
) -> None:
    store = open_store(database_url, daily_limit=10)
    try:
        code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=HOUR)
        store.link(code, chat_id=SECTOR_CHAT, now=clock.now)
        refs = [
            store.submit(make_draft(), resident_chat_id=RESIDENT, now=clock.now).reference
            for _ in range(3)
        ]
        (sending,) = store.claim_due(now=clock.now, owner="old", lease=HOUR, limit=1)
        store.sent_part(sending.id, parts=1, owner="old")  # a card sent, its album not yet
        with schema_lock(store.engine) as connection:
            command.downgrade(alembic_config(connection), "0002")
        assert "lease_owner" not in {c["name"] for c in inspect(store.engine).get_columns("outbox")}
    finally:
        store.close()
    upgraded = open_store(database_url)  # opening upgrades to the head
    try:
        claimed = upgraded.claim_due(now=clock.now, owner="new", lease=HOUR)
        assert [d.reference for d in claimed] == refs
        assert [(d.chat_id, d.parts_sent) for d in claimed] == [(SECTOR_CHAT, 1)] + [
            (SECTOR_CHAT, 0)
        ] * 2
        assert all(upgraded.delivered(d.id, now=clock.now, owner="new") for d in claimed)
    finally:
        upgraded.close()
