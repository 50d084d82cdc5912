"""digital keys: bookings of facilities with locks (the unique claim forbids double booking)
and their history (what locks report, kept once through the unique dedupe)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:29:12.198313
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('key_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('lock_id', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('refunded_cents', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('held_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('token_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('handover_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['holder_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim'),
    sa.UniqueConstraint('handover_code'),
    info={'erase': 'anonymise'}
    )
    with op.batch_alter_table('key_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_booking_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index('ix_key_booking_hold', ['status', 'held_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_booking_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index('ix_key_booking_slot', ['facility', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_booking_token_id'), ['token_id'], unique=False)

    op.create_table('key_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lock_id', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('dedupe', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['key_booking.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe'),
    info={'erase': 'keep'}
    )
    with op.batch_alter_table('key_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_event_booking_id'), ['booking_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('key_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_event_booking_id'))

    op.drop_table('key_event')
    with op.batch_alter_table('key_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_booking_token_id'))
        batch_op.drop_index('ix_key_booking_slot')
        batch_op.drop_index(batch_op.f('ix_key_booking_holder_id'))
        batch_op.drop_index('ix_key_booking_hold')
        batch_op.drop_index(batch_op.f('ix_key_booking_citizen_id'))

    op.drop_table('key_booking')
