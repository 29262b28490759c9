"""The standard-setting study: where a form's cut score comes from and why (NCCA Standard 17).

Contract. A study (``study.create_study``) rates an exam's items in scope (a form, several forms or
the live bank) by the Modified Angoff method (a probability in steps of 5% per item; an open
response's expected points) or the Yes/No method, with a seated panel (role and conflict-of-interest
declaration each) and the panel's definition of the minimally competent candidate. Rounds are opened
and closed in turn; ratings are append-only, so every change within and between rounds is kept.
The numbers are ``compute``'s (pure, each method in its docstring). The board's decision
(``study.plan_decision``, shown with the blueprint's change; ``study.record_decision`` records it and
writes it into the blueprint as ``standard:``, atomically, the file's hashes before and after in the
audit entry: ``assembly.standard_line``) adopts a cut as a share of the points of the items in scope;
the newest decision of an exam is the standard in force (``study.standard_in_force``), which the
blueprint must name; from it ``build`` gives each new form its own raw cut (``Standard.form_cut``).
A decided study gets another round only when reopened with a reason (audited). Forms built before
keep their frozen cut until ``study.recut`` records a new one (``records.cuts`` reads it).
``report`` writes the study report.

Layer 3 (beside assembly, which reads it; it writes the blueprint through ``assembly.standard_line``):
it imports records, assembly's blueprint line and below, never grading or analysis;
the impact data (past candidates' totals, item facility) are given to it by its caller.
"""
