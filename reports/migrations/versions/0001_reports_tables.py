"""The reports tables: reports, their events, the outbox, staff chats and invites, counters,
and the bot's conversation and user data (issue 15).

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "conversations",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_conversations")),
    )
    op.create_table(
        "reports",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("place_label", sa.String(length=300), nullable=False),
        sa.Column("place_sector_id", sa.String(length=8), nullable=False),
        sa.Column("place_id", sa.String(length=32), nullable=True),
        sa.Column("house", sa.String(length=64), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("sector_id", sa.String(length=8), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=False),
        sa.Column("occurred", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("voice_file_id", sa.String(length=256), nullable=True),
        sa.Column("photo_file_ids", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("resident_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("open_question", sa.Text(), nullable=True),
        sa.Column("status_before_question", sa.String(length=16), nullable=True),
        sa.Column("question_chat_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_reports")),
    )
    op.create_index("ix_reports_closed_at", "reports", ["closed_at"], unique=False)
    op.create_index("ix_reports_created_at", "reports", ["created_at"], unique=False)
    op.create_index(
        "ix_reports_resident_created", "reports", ["resident_chat_id", "created_at"], unique=False
    )
    op.create_index("ix_reports_sector_status", "reports", ["sector_id", "status"], unique=False)
    op.create_index(
        "ix_reports_status_waiting", "reports", ["status", "waiting_since"], unique=False
    )

    op.create_table(
        "sector_counters",
        sa.Column("sector_id", sa.String(length=8), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sector_id", name=op.f("pk_sector_counters")),
    )
    op.create_table(
        "staff_chats",
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_staff_chats")),
    )
    op.create_index(op.f("ix_staff_chats_chat_id"), "staff_chats", ["chat_id"], unique=False)

    op.create_table(
        "staff_invites",
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_chat_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("code_sha256", name=op.f("pk_staff_invites")),
    )
    op.create_table(
        "user_data",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_data")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("event_text", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reference"],
            ["reports.reference"],
            name=op.f("fk_outbox_reference_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_next_attempt", "outbox", ["next_attempt_at", "id"], unique=False)
    op.create_index(op.f("ix_outbox_reference"), "outbox", ["reference"], unique=False)

    op.create_table(
        "report_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reference"],
            ["reports.reference"],
            name=op.f("fk_report_events_reference_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    op.create_index(
        op.f("ix_report_events_reference"), "report_events", ["reference"], unique=False
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_report_events_reference"), table_name="report_events")

    op.drop_table("report_events")
    op.drop_index(op.f("ix_outbox_reference"), table_name="outbox")
    op.drop_index("ix_outbox_next_attempt", table_name="outbox")

    op.drop_table("outbox")
    op.drop_table("user_data")
    op.drop_table("staff_invites")
    op.drop_index(op.f("ix_staff_chats_chat_id"), table_name="staff_chats")

    op.drop_table("staff_chats")
    op.drop_table("sector_counters")
    op.drop_index("ix_reports_status_waiting", table_name="reports")
    op.drop_index("ix_reports_sector_status", table_name="reports")
    op.drop_index("ix_reports_resident_created", table_name="reports")
    op.drop_index("ix_reports_created_at", table_name="reports")
    op.drop_index("ix_reports_closed_at", table_name="reports")

    op.drop_table("reports")
    op.drop_table("conversations")
