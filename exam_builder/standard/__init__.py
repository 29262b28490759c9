"""The standard-setting study: where a form's cut score comes from and why (NCCA Standard 17).

Contract. A study (``study.create_study``) rates an exam's items in scope (a form, several forms or
the live bank) by the Modified Angoff method (a probability in steps of 5% per item; an open
response's expected points) or the Yes/No method, with a seated panel (role and conflict-of-interest
declaration each) and the panel's definition of the minimally competent candidate. Rounds are opened
and closed in turn; ratings are append-only, so every change within and between rounds is kept.
The numbers are ``compute``'s (pure, each method in its docstring). The board's decision
(``study.decide``) adopts a cut as a share of the points of the items in scope; the newest decision
of an exam is the standard in force (``study.standard_in_force``), from which ``build`` gives each
new form its own raw cut (``Standard.form_cut``). Forms built before keep their frozen cut until
``study.recut`` records a new one (``records.cuts`` reads it). ``report`` writes the study report.

Layer 3 (beside assembly, which reads it): it imports records and below, never grading or analysis;
the impact data (past candidates' totals, item facility) are given to it by its caller.
"""
