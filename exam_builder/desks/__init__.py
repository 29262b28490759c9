"""Staff desks that read what every layer below knows, analysis included (docs/architecture.md, top layer).

``coordinator_app`` (with ``coordinator.ipynb``): the coordinator's desk, served by
``exam-builder coordinator`` and ``exam-builder hub-service coordinator``. It records
accommodations (``records``) and writes the program's report (``analysis.report``), so it sits
above both.
"""
