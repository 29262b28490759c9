"""What every screen of the three apps must pass, at the three sizes people use.

``SIZES`` are Playwright context options: a laptop (1366x768), a phone (390x844) and a laptop at
200% zoom (the same screen, half the CSS pixels). ``check_screen`` runs axe-core (the WCAG 2.0,
2.1 and 2.2 A and AA rules) on the page, checks that nothing overflows sideways or is cut off,
and writes a screenshot to ``screenshots/<app>/<size>/<screen>.png`` (ignored by git) so a
reviewer can look at every screen. A failure names the rule, the element and the screen.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

#: WCAG 1.4.10's reflow width: a laptop at 400% zoom (320 CSS pixels wide is the criterion).
ZOOM400 = dict(viewport={"width": 341, "height": 192}, device_scale_factor=4)

SIZES: dict[str, dict] = {
    "desktop": dict(viewport={"width": 1366, "height": 768}),
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
    "zoom200": dict(viewport={"width": 683, "height": 384}, device_scale_factor=2),
}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"

_axe = Axe()

#: Elements whose text is cut off (an ellipsis or hidden overflow), or that stick out of the page.
_CLIPPED_JS = """() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1)
    out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
  const shown = 'button, label, .widget-label, h1, h2, h3, legend, th, td, input[type=text], textarea';
  for (const el of document.querySelectorAll(shown)) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    // a wide data table may scroll inside its own keyboard-reachable region (WCAG 1.4.10's exception)
    const region = el.closest('[role=region][tabindex]');
    if (region && getComputedStyle(region).overflowX === 'auto') continue;
    const name = (el.innerText || el.getAttribute('aria-label') || el.tagName).trim().slice(0, 40);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'auto'
        && !['INPUT', 'TEXTAREA'].includes(el.tagName))
      out.push(`cut off: ${el.tagName} "${name}" (${el.scrollWidth} > ${el.clientWidth})`);
    if (r.right > vw + 1)
      out.push(`past the right edge: ${el.tagName} "${name}" (right ${Math.round(r.right)} > ${vw})`);
  }
  return out;
}"""


#: The focused control's ring (its outline, or its choice's: a radio's ring is drawn on its row), cut
#: by a box that hides overflow. A scrolling box only counts sideways: it scrolls its content into view.
_RING_CUT_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return [];
  const out = [];
  for (const ring of [el, el.closest('.eb-choice')].filter(Boolean)) {
    const cs = getComputedStyle(ring);
    const grow = parseFloat(cs.outlineWidth) + parseFloat(cs.outlineOffset || 0);
    if (cs.outlineStyle === 'none' || !parseFloat(cs.outlineWidth)) continue;
    const r = ring.getBoundingClientRect();
    const box = {l: r.left - grow, t: r.top - grow, r: r.right + grow, b: r.bottom + grow};
    for (let a = ring.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      const c = a.getBoundingClientRect();
      const hides = v => v === 'hidden' || v === 'clip';
      const sideways = s.overflowX !== 'visible' && (box.l < c.left - 0.5 || box.r > c.right + 0.5);
      const upDown = hides(s.overflowY) && (box.t < c.top - 0.5 || box.b > c.bottom + 0.5);
      if (sideways || upDown) {
        out.push(`focus ring cut off: ${ring.tagName} "${(ring.innerText || ring.value || '').trim().slice(0, 30)}" ` +
                 `by ${a.tagName}.${String(a.className).split(' ').slice(0, 3).join('.')}`);
        break;
      }
    }
  }
  return out;
}"""


def ring_cut(page) -> list[str]:
    """Whether the focused control's ring is whole (WCAG 2.4.7 and 2.4.11): what cuts it, if anything."""
    return page.evaluate(_RING_CUT_JS)


def violations(page) -> list[dict]:
    """axe-core's WCAG A/AA violations on the page as it is now."""
    result = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return result.response["violations"]


def clipped(page) -> list[str]:
    """What is cut off or sticks out sideways (WCAG 1.4.4 and 1.4.10)."""
    return page.evaluate(_CLIPPED_JS)


def shot(page, app: str, size: str, screen: str) -> Path:
    """The whole screen, not only what is in view: Voila scrolls inside ``#rendered_cells``, so
    the window is made as tall as that content for the picture, then put back."""
    folder = SHOTS / app / size
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^a-z0-9-]+', '-', screen.lower())}.png"
    view = page.viewport_size
    tall = page.evaluate("() => Math.max(document.documentElement.scrollHeight, "
                         "...[...document.querySelectorAll('#rendered_cells')].map(e => e.scrollHeight))")
    try:
        if tall > view["height"]:
            page.set_viewport_size({"width": view["width"], "height": min(tall + 40, 6000)})
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(view)
    return path


def check_screen(page, app: str, size: str, screen: str) -> None:
    """Screenshot, then axe-core and the reflow check: any finding fails with where it is."""
    path = shot(page, app, size, screen)
    found = violations(page)
    problems = [f"{v['id']} ({v['impact']}): {v['help']} at " + "; ".join(
        json.dumps(n["target"]) for n in v["nodes"][:5]) for v in found]
    problems += clipped(page)
    assert not problems, f"{app} / {screen} at {size} ({path}):\n  " + "\n  ".join(problems)
