"""Load-testing tools: a room of made-up candidates against the real exam server.

``pageclient`` speaks the candidate page's protocol without a browser; ``rehearse`` runs a room of
them (and a few chromium pages) against ``exam-builder serve`` on a scratch copy of a course. A top
layer beside ``cli``: it may import ``delivery``; nothing in ``delivery`` imports it.
"""
