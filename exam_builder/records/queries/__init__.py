"""The query layer: every SQL statement exam-builder runs, one module per table or aggregate.

The contract: no SQL outside ``records/queries`` and ``records/migrations``; domain modules
(records, delivery, grading, analysis, assembly, the CLI and the demo) call these functions.
``records/db.py`` stays the one door for engines and sessions; this package is the one door for
what runs through them (as datasette's ``Database`` is for its queries, and as PrairieLearn
keeps one query module per table).

Rules:

* Functions take the ``Session`` (or, at Core level, the ``Connection``) first, are typed, and
  are named ``select_*``, ``insert_*``, ``update_*``, ``delete_*`` or ``lock_*``.
* Every difference between PostgreSQL and SQLite (row locks, advisory locks, insert-or-ignore,
  executemany) is in ``dialect.py``; nothing else asks ``dialect.name``.
* A query that serves a whole file or a whole room stays one query (``*_of`` functions take
  lists of ids), never one per row.
* ORM unit-of-work calls on objects are not queries and stay in domain code: ``session.get``
  by primary key, attribute changes, ``session.add``, ``session.delete`` and ``session.flush``.
  Statements (``select``/``insert``/``update``/``delete``, ``text``, ``func``) are queries and
  live here. ``tests/records/test_query_layer.py`` holds the line.
"""
