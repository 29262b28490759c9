"""Paper: printed forms (standard and large print), answer sheets, scanning and verification.

The paper path joins the online one at the response journal: ``printing`` writes a form's booklet
(from the released notebook, so the same questions, order and choices as online and no key) and
each candidate's coded answer sheet (``layout``: the one geometry both sides share); ``read``
reads one scanned page (OpenCV: the QR code, the corner marks, each bubble's darkness);
``scan`` stores what it reads into ``eb_response`` (``entered_by`` ``paper``) and sets aside,
located, whatever it cannot match; ``verify`` lets a person decide each unclear mark (audited).
A paper sitting is handed in (``submit_reason`` ``paper``) once its every page is in and every
check decided; from there collect, grading, results and the reports treat it as any sitting.
Each kind says how it is answered on paper (``kinds.base``: ``paper_area``, ``paper_bubbles``,
``paper_answer``). Printing goes through headless Chromium (``chromium``).
"""
