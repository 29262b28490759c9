"""The SQL of exam-builder's tables: one module per table, with ``select_*``, ``insert_*`` and
``update_*`` functions that take the caller's session (the caller owns the transaction)."""
