"""access codes: a sitting's date, window and lease; wrong codes and lockouts; journal index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00

- ``eb_sitting``: ``scheduled_on`` (the date the sitting is for), ``opens_at``/``closes_at`` (the
  window in which it may be started), ``lease_token``/``lease_at``/``lease_source`` (the one page
  that may act on it; a new sign-in takes it over).
- ``eb_wrong_code`` and ``eb_lockout``: wrong access codes per source, shared by every server
  process, and the sources locked out.
- ``ix_eb_response_sitting_recorded`` and ``ix_eb_sitting_event_kind_at``: the journal limits and
  the proctor's alerts count from an index.

Sittings opened before this revision keep their rows, but they are not signed into any more:
their ``access_code_hash`` is an unkeyed SHA-256, while codes are now checked with an HMAC
whose key is the course's secret (``<course>/.exam-builder/secret``, never in the database),
and they have no date or window (NULL). Give their candidates new codes:
``exam-builder sitting reissue EXAM --room R --by NAME --reason ...`` (sittings not yet
started), or void them and open new sittings. Nothing else changes for them: their
responses, events, outcomes and audit entries are kept as they are.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("opens_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closes_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_source", sa.String(length=64), nullable=True))
    with op.batch_alter_table("eb_response", schema=None) as batch_op:
        batch_op.create_index("ix_eb_response_sitting_recorded", ["sitting_id", "recorded_at"], unique=False)
    with op.batch_alter_table("eb_sitting_event", schema=None) as batch_op:
        batch_op.create_index("ix_eb_sitting_event_kind_at", ["kind", "at"], unique=False)
    op.create_table(
        "eb_wrong_code",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_wrong_code")),
    )
    with op.batch_alter_table("eb_wrong_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eb_wrong_code_at"), ["at"], unique=False)
        batch_op.create_index("ix_eb_wrong_code_source_at", ["source", "at"], unique=False)
    op.create_table(
        "eb_lockout",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(length=128), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_lockout")),
    )
    with op.batch_alter_table("eb_lockout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eb_lockout_source"), ["source"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eb_lockout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eb_lockout_source"))
    op.drop_table("eb_lockout")
    with op.batch_alter_table("eb_wrong_code", schema=None) as batch_op:
        batch_op.drop_index("ix_eb_wrong_code_source_at")
        batch_op.drop_index(batch_op.f("ix_eb_wrong_code_at"))
    op.drop_table("eb_wrong_code")
    with op.batch_alter_table("eb_sitting_event", schema=None) as batch_op:
        batch_op.drop_index("ix_eb_sitting_event_kind_at")
    with op.batch_alter_table("eb_response", schema=None) as batch_op:
        batch_op.drop_index("ix_eb_response_sitting_recorded")
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.drop_column("lease_source")
        batch_op.drop_column("lease_at")
        batch_op.drop_column("lease_token")
        batch_op.drop_column("closes_at")
        batch_op.drop_column("opens_at")
        batch_op.drop_column("scheduled_on")
