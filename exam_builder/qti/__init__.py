"""IMS QTI 3.0 in and out: the bank's items as a QTI content package, and QTI items as item notebooks.

A package of its own (not under ``bank``): it reads the bank, the rubrics and a built form's
manifest and writes a staff export, like ``assembly.exports``. ``export`` writes the package,
``importer`` (``import`` is a Python keyword) reads one into draft item notebooks, its content
through ``content`` (the one rule: what is kept, what is a warning, what an error) and its files through
``package`` (the one safe reader of a package's files: size and ratio limits, paths kept inside,
no DTD), ``schema`` validates against the IMS schemas kept in ``qti/schema/``; ``model.qti`` (in the
model layer, below the kinds) is the vocabulary both share with the kinds (each kind's QTI mapping
is its ``qti_item``/``qti_fits``/``from_qti`` hooks).
lxml is imported by these modules only, never by the kinds at import time.
"""
