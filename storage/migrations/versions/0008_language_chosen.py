"""language chosen: a language picked with /language is never changed by guessing

The chat learns the language of someone whose channel gives no hint from what they write
(flows/understand.py), unless they chose one. Residents who speak English already chose it
(with /language, or their Telegram app said so): they count as having chosen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:10:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language_chosen', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE citizen SET language_chosen = (language = 'en')")


def downgrade() -> None:
    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.drop_column('language_chosen')
