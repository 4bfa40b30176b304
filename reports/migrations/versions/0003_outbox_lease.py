"""The outbox lease: the bot process sending a message, and until when (issue 17).

Several bot processes share one reports database; each claims the due rows it sends
(``lease_owner`` until ``lease_until``), so no two send the same message, and a process that dies
mid-send lets another take its rows once the lease runs out. The rows already owed start with a
free lease, so the first worker to look claims them. The claim's index replaces the due index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_outbox_next_attempt")
        batch_op.create_index(
            "ix_outbox_claim", ["next_attempt_at", "lease_until", "id"], unique=False
        )


def downgrade() -> None:
    """Undo this revision (leases in flight are dropped: their rows are owed as before)."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claim")
        batch_op.create_index("ix_outbox_next_attempt", ["next_attempt_at", "id"], unique=False)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
