"""`applications.state` as `text` on PostgreSQL, still lz4-compressed (issue #16).

The engine writes the whole workflow state on every step, always as the text of its JSON
codec, and reads it whole through the same codec; nothing queries inside it (migration
0020 made it `json` for that reason). A `json` column still parses every value written to
check that it is JSON. Measured A/B on PostgreSQL 15 (prepared UPDATE of the state,
interleaved, medians, a loaded machine): a 16 KB state 0.57 -> 0.48 ms, a 130 KB state
1.42 -> 0.86 ms. Reads are unchanged (`json` is returned as its text either way).

Changing the type rewrites the table (an ACCESS EXCLUSIVE lock for as long as that takes);
setting lz4 in the same statement rewrites every state lz4-compressed. A server built
without lz4 keeps pglz. SQLite stores JSON as text either way: nothing changes there.

Revision ID: 0023_state_text
Revises: 0022_drop_events_region_index
"""

from alembic import op

revision = "0023_state_text"
down_revision = "0022_drop_events_region_index"
branch_labels = None
depends_on = None


def _retype(to: str) -> str:
    """Change the state's type to `to`, lz4-compressed where the server has lz4 (a server
    built without it answers SET COMPRESSION with feature_not_supported: pglz)."""
    return f"""
DO $$
BEGIN
    ALTER TABLE applications ALTER COLUMN state TYPE {to} USING state::{to},
        ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    ALTER TABLE applications ALTER COLUMN state TYPE {to} USING state::{to};
END
$$
"""


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_retype("text"))


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_retype("json"))
