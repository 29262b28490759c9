"""The item model: plain typed data every layer above shares, and nothing heavy.

Bottom layer (docs/architecture.md). ``item`` (``Item``, ``Kind``, ``Choice``, ``Scenario``,
``Status``, ``LABELS``), ``manifest`` (a form frozen: ``Manifest``, ``ManifestItem``), ``rubric``
(``Rubric``, ``Criterion``, ``Level`` and their located loading), ``states`` (every lifecycle state
as a ``str`` enum) and ``qti`` (the QTI 3.0 vocabulary the kinds write and read through; lxml).
No database, no notebook, no widgets: the candidate's kernel imports the kinds, which build on
this package. Nothing is imported here, so a module takes only what it names.
"""
