"""auction: keyword hits carry the day they are next due

The nightly step no longer probes every keyword hit of every item whose price moved: a hit
knows the day its item's price next crosses the limit of an active alert with its keyword
(services/auction/due.py). Existing hits are due at once (day 0), except those of items that
are no longer on offer (never): the first step after the upgrade checks them all, as before,
and sets their days. The table leaves room on its pages (fillfactor 70, PostgreSQL) so that
the nightly update of the days is a HOT update. A partial index on the alerts with a keyword
(active, keyword, max_cents, category) finds the highest limit of a keyword below a price in
one probe. The index on auction_item.status alone goes: (status, category) serves the same
lookups, and every status change wrote both.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 18:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_DUE = 2**31 - 1  # services/auction/due.py


def upgrade() -> None:
    with op.batch_alter_table('auction_keyword_hit', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('due_dayno', sa.Integer(), nullable=False, server_default='0')
        )
    op.execute(
        f"UPDATE auction_keyword_hit SET due_dayno = {NEVER_DUE} WHERE item_id IN "
        "(SELECT id FROM auction_item WHERE status NOT IN ('listed', 'reserved'))"
    )
    with op.batch_alter_table('auction_keyword_hit', schema=None) as batch_op:
        batch_op.alter_column('due_dayno', server_default=None)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE auction_keyword_hit SET (fillfactor = 70)")
    with op.batch_alter_table('auction_subscription', schema=None) as batch_op:
        batch_op.create_index(
            'ix_auction_sub_keyword_limit',
            ['active', 'keyword', 'max_cents', 'category'],
            unique=False,
            sqlite_where=sa.text("keyword <> ''"),
            postgresql_where=sa.text("keyword <> ''"),
        )
    # (status, category) serves every lookup by status: one index less to write per status change
    with op.batch_alter_table('auction_item', schema=None) as batch_op:
        batch_op.drop_index('ix_auction_item_status')


def downgrade() -> None:
    with op.batch_alter_table('auction_subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_auction_sub_keyword_limit')
    with op.batch_alter_table('auction_item', schema=None) as batch_op:
        batch_op.create_index('ix_auction_item_status', ['status'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE auction_keyword_hit RESET (fillfactor)")
    with op.batch_alter_table('auction_keyword_hit', schema=None) as batch_op:
        batch_op.drop_column('due_dayno')
