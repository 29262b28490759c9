"""What every app's page shares: markdown made safe, text size and reflow CSS, screen headings.

Authors' text (questions, rubric notes) is markdown; ``md`` escapes any HTML in it, so nothing
an author or a candidate typed becomes markup. ``style_css`` is the apps' base style at a text
size; ``heading`` marks a screen's heading so ``Assist.move_focus(focus_on(key))`` can find it.
"""
from __future__ import annotations

import html

import mistune

_markdown = mistune.create_markdown(escape=True)


def md(text: str) -> str:
    return _markdown(text or "")


def esc(text: object) -> str:
    """Any value as text in a page (quotes too: it may stand in an attribute)."""
    return html.escape(str(text), quote=True)


def status_html(text: str, kind: str, done_prefix: str = "") -> str:
    """A message beside a staff screen's buttons, in words, not colour only: ``refused`` is an alert
    ("Not done: ..."), anything else a status (``done`` starts with ``done_prefix``)."""
    if kind == "refused":
        return f"<p role='alert' class='eb-error'>Not done: {esc(text)}</p>"
    return f"<p role='status' class='eb-ok'>{done_prefix if kind == 'done' else ''}{esc(text)}</p>"


def style_css(px: int) -> str:
    """Text size, reflow and contrast (WCAG 2.2 AA: 1.4.3, 1.4.4, 1.4.10, 2.4.7, 2.4.11).

    The bar with the clock, the question number and the main buttons stays in view where the
    screen is tall enough to keep room for the question (not at 200% zoom on a laptop); the
    candidate's compact bar (``eb-compact``: clock, question number, Display) stays in view at
    200% zoom too, and only a screen under 300 CSS pixels tall (400% zoom) lets it scroll; labels sit
    above full-width boxes; buttons wrap their words instead of cutting them off.
    """
    return f"""<style>
.eb-app {{ --jp-widgets-font-size: {px}px; --jp-ui-font-size1: {px}px; --jp-content-font-size1: {px}px;
  --jp-widgets-inline-height: {round(px * 2)}px; --jp-widgets-inline-label-width: auto;
  font-size: {px}px; line-height: 1.5; color: #111; background: #fff; max-width: 78em; overflow: visible;
  box-sizing: border-box; }}
.eb-app, .eb-app .widget-box {{ overflow: visible !important; }}
/* a checkbox's ring is drawn outside it: its widget and label boxes must not clip it */
.eb-app .widget-checkbox, .eb-app .widget-checkbox .widget-label-basic {{ overflow: visible !important; }}
.eb-app .widget-html-content, .eb-app .widget-label, .eb-app label, .eb-app button, .eb-app input,
.eb-app textarea, .eb-app legend {{ font-size: {px}px !important; color: #111; font-family: inherit !important; }}
.eb-app .widget-html-content {{ line-height: 1.5; white-space: normal; overflow-wrap: anywhere; }}
.eb-app .widget-html, .eb-app .widget-html-content {{ height: auto; min-width: 0; }}
.eb-app h1 {{ font-size: 1.35em; margin: 0; }}
.eb-app h2 {{ font-size: 1.2em; margin: 0.4em 0; scroll-margin-top: 7em; }}
.eb-app .jupyter-button {{ height: auto; min-height: {round(px * 2.2)}px; padding: 0.2em 0.8em; margin: 2px 6px 2px 0;
  white-space: normal; overflow: visible; text-overflow: clip; max-width: 100%; color: #111;
  border: 2px solid #6b6b6b; border-radius: 4px; background: #f3f3f3; }}
.eb-app .jupyter-button.mod-primary {{ background: #0b4f8a; border-color: #0b4f8a; color: #fff; }}
.eb-app .jupyter-button.mod-warning {{ background: #8a4600; border-color: #8a4600; color: #fff; }}
.eb-app .jupyter-button.mod-danger {{ background: #a11d1d; border-color: #a11d1d; color: #fff; }}
.eb-app .jupyter-button:disabled {{ opacity: 0.6; }}
.eb-app :focus-visible {{ outline: 3px solid #b34700 !important; outline-offset: 2px; }}
.eb-app [tabindex="-1"]:focus {{ outline: none; }}
.eb-app .widget-text, .eb-app .widget-textarea {{ flex-direction: column; align-items: stretch; width: 100%;
  max-width: 100%; height: auto; }}
.eb-app .widget-text .widget-label, .eb-app .widget-textarea .widget-label {{ width: auto; max-width: none;
  text-align: left; white-space: normal; height: auto; line-height: 1.5; margin-bottom: 0.2em; font-weight: bold; }}
.eb-app .widget-text input, .eb-app .widget-textarea textarea {{ width: 100%; box-sizing: border-box;
  border: 2px solid #6b6b6b; padding: 0.3em; height: auto; }}
.eb-app .widget-checkbox {{ width: auto; height: auto; }}
.eb-app .widget-checkbox label {{ white-space: normal; line-height: 1.5; }}
.eb-app .widget-checkbox input {{ width: 1.25em; height: 1.25em; flex: none; }}
.eb-app .eb-bar {{ background: #fff; border-bottom: 2px solid #6b6b6b; padding: 0.3em 0; z-index: 5;
  flex-flow: row wrap; align-items: center; gap: 0.2em 1em; }}
@media (min-height: 500px) {{ .eb-app .eb-bar {{ position: sticky; top: 0; }} }}
/* the candidate's compact bar (clock, question number, Display) stays in view down to 200% zoom */
@media (min-height: 300px) {{ .eb-app .eb-bar.eb-compact {{ position: sticky; top: 0; }} }}
.eb-app .eb-bar.eb-compact {{ gap: 0 0.8em; padding: 0.15em 0; }}
.eb-app .eb-bar.eb-compact .widget-html-content, .eb-app .eb-bar.eb-compact button {{
  font-size: {max(16, round(px * 0.8))}px !important; }}
.eb-app:has(.eb-compact) h2 {{ scroll-margin-top: 4.5em; }}
.eb-app .eb-bar.eb-compact > :last-child {{ margin-left: auto; }}
/* JupyterLab's output area clips and scrolls on its own (overflow hidden/auto), which would make it,
   not the page, the box the bar sticks in: the page is the only scroller */
.jp-OutputArea:has(.eb-compact), .jp-OutputArea-child:has(.eb-compact),
.jp-OutputArea-output:has(.eb-compact) {{ overflow: visible !important; }}
.eb-app .eb-bar:empty {{ display: none; }}
.eb-app .eb-where {{ font-weight: bold; }}
.eb-app .eb-buttons {{ flex-flow: row wrap; align-items: center; }}
.eb-app .eb-options {{ flex-flow: row wrap; align-items: center; gap: 0 1.5em; }}
.eb-app .eb-split {{ flex-flow: row wrap; gap: 0 2em; align-items: flex-start; }}
.eb-app .eb-split > * {{ flex: 1 1 22em; min-width: 0; }}
.eb-app .eb-story {{ border-left: 4px solid #0b4f8a; padding-left: 0.8em; }}
.eb-app .eb-alert {{ border: 2px solid #8a4600; background: #fff4e5; padding: 0.5em; }}
.eb-app .eb-error {{ border: 2px solid #a11d1d; background: #fdecec; padding: 0.5em; }}
.eb-app .eb-timer {{ font-weight: bold; font-variant-numeric: tabular-nums; }}
.eb-app .eb-feedback {{ border: 2px solid #6b6b6b; padding: 0.2em 0.8em; margin: 0.5em 0; }}
.eb-app .eb-right {{ border-color: #1a6b2f; background: #eaf6ec; }}
.eb-app .eb-wrong {{ border-color: #a11d1d; background: #fdecec; }}
.eb-app .eb-table {{ border-collapse: collapse; margin: 0.5em 0; }}
.eb-app .eb-table caption {{ text-align: left; font-weight: bold; }}
.eb-app .eb-table th, .eb-app .eb-table td {{ border: 1px solid #6b6b6b; padding: 0.2em 0.5em; text-align: left;
  overflow-wrap: normal; }}
.eb-app .eb-confirmation {{ font-size: 1.6em; font-weight: bold; letter-spacing: 0.12em; }}
</style>"""


def heading(text: str, key: str, extra: str = "") -> str:
    """A screen's heading; ``key`` lets the page find this one (focus goes there)."""
    return f"<h2 class='eb-heading' data-eb='{html.escape(key)}'>{text}{extra}</h2>"


def focus_on(key: str) -> str:
    return f".eb-app h2[data-eb='{key}']"
