"""refund payouts: what the provider has confirmed paying out, apart from what is booked

Refunds are booked in the transaction and sent to the provider after it. Refunds made before
this revision were sent inside their transaction, so they count as sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:06:50.920816
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('refund_sent_cents', sa.Integer(), nullable=False, server_default='0')
        )
    op.execute("UPDATE payment SET refund_sent_cents = refunded_cents")


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('refund_sent_cents')
