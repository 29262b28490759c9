"""Accessible widgets the three apps share, where ipywidgets cannot say what a person needs.

ipywidgets' radio buttons are not a named group, its buttons cannot carry ``aria-pressed`` or
``aria-current``, and nothing in it moves focus or speaks through a live region. These are
anywidget widgets (an ES module in this folder per widget, served by the kernel with the widget,
so nothing is fetched from outside the exam room) whose state is plain synced traits: a page,
a test or the rehearsal's page client changes them exactly as it changes any ipywidget.
"""
