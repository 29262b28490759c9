"""Practice: sets of practice items for study groups, and the runs candidates take on them.

The domain's contract, module by module:

- ``overlap``: the one rule keeping the practice and certification pools apart (pure).
- ``sets``: practice sets by competency or module, built from the checked bank with the proof
  that no item is, copies or repeats a certification item or an item of any stored form; one
  JSON file per set under ``practice/``, audited when built.
- ``run``: one practice run (pure, in memory): right or wrong with the rationale after each
  answer, an optional clock, and a summary per competency with what to study next.

Practice never touches sittings, responses, results or item statistics: a run is not stored, so
it cannot count as an attempt, and the practice app reads a set file only, never a manifest.
The app itself is ``delivery.practice_app``, served by ``exam-builder practice serve``.
"""
