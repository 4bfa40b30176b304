"""What several bot workers share: the update ids taken, token buckets, and button memos.

New tables only; nothing owed or stored before is touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bot_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_bot_updates")),
    )
    op.create_index(
        op.f("ix_bot_updates_lease_until"), "bot_updates", ["lease_until"], unique=False
    )
    op.create_table(
        "bot_buckets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_buckets")),
    )
    op.create_index(op.f("ix_bot_buckets_updated"), "bot_buckets", ["updated"], unique=False)
    op.create_table(
        "bot_memo",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_bot_memo")),
    )
    op.create_index(op.f("ix_bot_memo_stored_at"), "bot_memo", ["stored_at"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_bot_memo_stored_at"), table_name="bot_memo")
    op.drop_table("bot_memo")
    op.drop_index(op.f("ix_bot_buckets_updated"), table_name="bot_buckets")
    op.drop_table("bot_buckets")
    op.drop_index(op.f("ix_bot_updates_lease_until"), table_name="bot_updates")
    op.drop_table("bot_updates")
