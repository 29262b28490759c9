"""The study's result and its report: what the facilitator sees between rounds (``summarise``) and
the HTML report an accreditor reads (``write_report``: figures embedded as PNG, no network; a CSV
of every number beside it).

The impact data come from the caller (this layer does not grade): ``scores`` are past candidates'
final totals per form (assignment), ``facility`` the share of its points candidates earned per item
with the number of responses. Forms are those whose items the study rated (``StudyView.form_items``).
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, select_autoescape

from .. import clock
from ..errors import ExamBuilderError
from ..files import replace_files
from ..model.manifest import Manifest
from ..numbers import against, fixed, fmt
from . import compute as c
from .study import InForce, RoundView, StudyView, recommended_share


@dataclass
class FormResult:
    assignment: str
    points: float
    recommended: float
    se: float | None
    panelist_cuts: dict[str, float]
    impact: list[tuple[str, float, float | None]]
    panelist_pass: dict[str, float | None]
    candidates: int
    adopted: float | None = None  # the cut under the board's decision
    adopted_pass: float | None = None  # past candidates' pass rate at the adopted cut


@dataclass
class RoundResult:
    number: int
    closed: bool
    share: float  # recommended standard as a share of the scope's points
    scope_cut: float
    se: float | None
    spread: list[c.ItemSpread]
    checks: list[c.PanelistCheck]
    icc: tuple[float, float] | None
    forms: list[FormResult]
    changes: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    view: StudyView
    rounds: list[RoundResult]
    facility: dict[str, tuple[float, int]]
    in_force: InForce | None = None  # the exam's decision in force (of this study or another)
    exam_title: str = ""  # the blueprint's title, else the program's name
    named: tuple[int, int] | None = None  # (study, decision) the exam's blueprint names as its `standard:`

    def status(self, number: int) -> str:
        """This study's decision ``number`` in words: in force, or superseded by which decision."""
        d = self.view.decisions[number - 1]
        return self.in_force.status(d, number, self.named) if self.in_force is not None else "recorded"


def summarise(view: StudyView, forms: Sequence[Manifest], scores: Mapping[str, Sequence[float]],
              facility: Mapping[str, tuple[float, int]], in_force: InForce | None = None,
              exam_title: str = "", named: tuple[int, int] | None = None) -> Summary:
    """Every round's numbers (complete rounds only: a round with ratings missing shows its progress)."""
    rated_forms = []
    for m in forms:
        try:
            rated_forms.append((m, view.form_items(m)))
        except ExamBuilderError:
            continue
    decision = view.decisions[-1] if view.decisions else None
    out = []
    for r in view.rounds:
        if r.missing:
            continue
        cuts = c.panelist_cuts(r.matrix, view.items)
        se = c.standard_error(list(cuts.values()))
        fr = []
        for m, items in rated_forms:
            pc = c.panelist_cuts(r.matrix, items)
            rec = c.recommended_cut(r.matrix, items)
            fse = c.standard_error(list(pc.values()))
            sc = list(scores.get(m.assignment, []))
            adopted = (c.adopted_form_cut(rec, m.total_points, decision.recommended, decision.adopted)
                       if decision is not None and decision.round_no == r.number else None)
            fr.append(FormResult(m.assignment, m.total_points, rec, fse, pc, c.impact(sc, rec, fse) if sc else [],
                                 {p: c.pass_rate(sc, x) for p, x in pc.items()}, len(sc), adopted,
                                 c.pass_rate(sc, adopted) if sc and adopted is not None else None))
        out.append(RoundResult(r.number, r.closed, recommended_share(view, r), c.recommended_cut(r.matrix, view.items),
                               se, c.item_spread(r.matrix, view.items, view.study.sd_flag),
                               c.panelist_checks(r.matrix, view.items), c.agreement(r.matrix, view.items), fr,
                               view.changes.get(r.number, {})))
    return Summary(view, out, dict(facility), in_force, exam_title or view.study.exam_id, named)


def facility_shown(facility: Mapping[str, tuple[float, int]], item_id: str) -> str:
    """An item's facility in past candidates' hands, "64% (n=23)", or "not sat yet"."""
    if item_id not in facility:
        return "not sat yet"
    share, n = facility[item_id]
    return f"{share:.0%} (n={n})"


def facility_line(summary: Summary) -> str:
    """What the study has of item facility (the share of an item's points past candidates earned), in words."""
    fac = summary.facility
    sat = [fac[i.item_id][1] for i in summary.view.items if i.item_id in fac]
    if not sat:
        return "item facility: no past candidates have sat these items yet"
    spread = f"{min(sat)} responses each" if min(sat) == max(sat) else f"{min(sat)} to {max(sat)} responses each"
    return (f"item facility (the share of its points past candidates earned): {len(sat)} of the "
            f"{len(summary.view.items)} items, {spread}; a flagged item's is in its table, every item's in the "
            "study report")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else fixed(x, digits)


def _z(z: float | None) -> str:
    """A panelist's distance in SDs, with the decimals that show it against the outlier rule's 2."""
    return "n/a" if z is None else f"{'+' if z > 0 else '-' if z < 0 else ''}{against(abs(z), c.OUTLIER_Z, 1)}"


def sd_shown(sd: float | None, flag: float) -> str:
    """An item's SD as a percent of its points, with the decimals that show it against the flag (15.3% above 15%)."""
    return "n/a" if sd is None else f"{against(round(sd * 100, 7), round(flag * 100, 7), 0)}%"


def _figure(summary: Summary) -> str:
    """Panelists' cuts (as a share of the scope's points) per round, with the recommended cut: a base64 PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pts = summary.view.points
    for r in summary.rounds:
        xs = [x / pts * 100 for x in (ch.cut for ch in r.checks)]
        ax.scatter(xs, [r.number] * len(xs), color="#1f4e79", alpha=0.7, label="a panelist's cut" if r.number == 1
                   else None)
        ax.plot([r.share * 100] * 2, [r.number - 0.3, r.number + 0.3], color="#a33", linewidth=2,
                label="recommended" if r.number == 1 else None)
    ax.set_yticks([r.number for r in summary.rounds], [f"round {r.number}" for r in summary.rounds])
    ax.set_xlabel("cut as % of the points rated")
    ax.set_ylim(0.5, len(summary.rounds) + 0.5)
    ax.legend(loc="lower right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Standard-setting study {{ s.id }}: {{ s.title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0
1rem;line-height:1.45;color:#111}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #999;padding:.2rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold}.flag{color:#8a1c1c;font-weight:bold}
img{max-width:100%}.scroll{overflow-x:auto;max-width:100%}
.scroll:focus-visible{outline:3px solid #b34700}</style></head><body><main>
<h1>Standard-setting study {{ s.id }}: {{ s.title }}</h1>
<p>Exam: <strong>{{ exam_title }}</strong> ({{ s.exam_id }}); written {{ written }} by exam-builder.</p>
<h2>Method</h2>
<p>{{ method }} method{% if s.method == "modified_angoff" %}: each panelist gave, for each item, the probability (in
steps of 5%) that a minimally competent candidate earns its point{% else %}: each panelist said, for each item, whether
a minimally competent candidate would earn its point (yes = 100%, no = 0%){% endif %}; for an open response, the points
such a candidate is expected to earn. A panelist's cut is the sum of their expected points; the recommended raw cut of a
form is the sum over its items of the mean rating; its standard error is the SD of the panelists' cuts over the square
root of their number. Items whose ratings have an SD above {{ flag_pct }}% of their points were
flagged for discussion. Agreement is the intraclass correlation ICC(2,1) and ICC(2,k) of Shrout and Fleiss (1979).
An outlier panelist's cut lies more than 2 SD from the others' mean, or their ratings correlate below 0.2 with the
others'; outliers are named only on a panel of {{ min_panel }} or more ({{ panel|length }} here).
Scope: {{ scope }} ({{ items|length }} items, {{ "%g"|format(points) }} points).</p>
<h2>The minimally competent candidate</h2><p>{{ s.mcc }}</p>
<h2>Panel</h2>
<table><caption>Panelists by role ({{ panel|length }} in all)</caption><tr><th>role</th><th>panelists</th>
<th>conflicts declared</th></tr>
{% for role, n, declared in roles %}<tr><td>{{ role }}</td><td>{{ n }}</td><td>{{ declared }}</td></tr>{% endfor %}
</table>
{% if names %}<table><caption>Panelists</caption><tr><th>panelist</th><th>role</th><th>conflict of interest</th></tr>
{% for p in panel %}<tr><td>{{ p.name }}</td><td>{{ p.role }}</td><td>{{ p.conflict }}</td></tr>{% endfor %}</table>
{% endif %}
<h2>Rounds</h2>
{% if figure %}<img alt="Each panelist's cut per round as a percent of the points, with the recommended cut (the
numbers are in the tables below)" src="data:image/png;base64,{{ figure }}">{% else %}<p>No round is complete
yet.</p>{% endif %}
<table><caption>The recommended cut per round</caption><tr><th>round</th><th>recommended (% of points)</th>
<th>raw cut over the scope</th><th>standard error</th><th>ICC(2,1)</th><th>ICC(2,k)</th><th>items flagged</th>
<th>ratings changed from the round before</th></tr>
{% for r in rounds %}<tr><td>{{ r.number }}</td><td>{{ pct1(r.share) }}</td><td>{{ num(r.scope_cut) }}</td>
<td>{{ num(r.se) }}</td><td>{{ num(r.icc[0] if r.icc else None) }}</td><td>{{ num(r.icc[1] if r.icc else None) }}</td>
<td>{{ r.spread|selectattr("flagged")|list|length }}</td><td>{{ r.changes.values()|sum if r.changes else
"first round" }}</td>
</tr>{% endfor %}</table>
{% for r in rounds %}
<h3>Round {{ r.number }}</h3>
<table><caption>Panelists' cuts, round {{ r.number }}</caption><tr><th>panelist</th><th>cut (raw)</th>
<th>% of points</th><th>z against the others</th><th>r with the others</th><th>outlier</th></tr>
{% for ch in r.checks %}<tr><td>{{ label(ch.panelist) }}</td><td>{{ num(ch.cut) }}</td><td>{{ pct1(ch.cut /
points) }}</td>
<td>{{ z(ch.z) }}</td><td>{{ r_rest(ch.r_rest) }}</td><td>{% if ch.flagged %}<span class="flag">{{ ch.why }}</span>
{% else %}no{% endif %}</td></tr>{% endfor %}</table>
<table><caption>Item spread, round {{ r.number }} (ratings as % of the item's points)</caption><tr><th>item</th>
<th>mean</th><th>SD</th><th>lowest</th><th>highest</th><th>facility (past candidates)</th><th>discussion</th></tr>
{% for it in r.spread %}<tr><td>{{ it.item_id }}</td><td>{{ pct(it.mean) }}</td><td>{{ sd_pct(it.sd) }}</td>
<td>{{ pct(it.low) }}</td><td>{{ pct(it.high) }}</td><td>{{ fac(it.item_id) }}</td>
<td>{% if it.flagged %}<span class="flag">flagged</span>{% else %}-{% endif %}</td></tr>{% endfor %}</table>
{% for f in r.forms %}
<table><caption>Form {{ f.assignment }}, round {{ r.number }}: recommended raw cut {{ num(f.recommended) }} of
{{ "%g"|format(f.points) }} (SE {{ num(f.se) }}){% if f.adopted is not none %}; under the adopted standard
{{ num(f.adopted) }}{% endif %}</caption><tr><th>cut</th><th>raw points</th><th>pass rate ({{ f.candidates }} past
candidates)</th></tr>
{% for lab, cut, rate in f.impact %}<tr><td>{{ lab }}</td><td>{{ num(cut) }}</td><td>{{ pct(rate) }}</td></tr>
{% if loop.last and f.adopted is not none %}<tr><td><strong>adopted cut</strong></td><td>{{ num(f.adopted) }}</td>
<td>{{ pct(f.adopted_pass) }}</td></tr>{% endif %}
{% else %}<tr><td colspan="3">no past candidates on this form: no impact data</td></tr>{% endfor %}</table>
{% if f.candidates %}<table><caption>Form {{ f.assignment }}, round {{ r.number }}: the pass rate each panelist's cut
would have produced</caption><tr><th>panelist</th><th>their cut (raw)</th><th>pass rate</th></tr>
{% for p, cut in f.panelist_cuts.items() %}<tr><td>{{ label(p) }}</td><td>{{ num(cut) }}</td>
<td>{{ pct(f.panelist_pass[p]) }}</td></tr>{% endfor %}</table>{% endif %}
{% endfor %}{% endfor %}
<h2>Decision</h2>
{% for d in decisions %}<p>On {{ d.decided_on }} {{ d.decided_by }} adopted a cut of <strong>{{
pct1(d.adopted) }}</strong>
of the points rated (the panel recommended {{ pct1(d.recommended) }} in round {{ d.round_no }}). Reason:
{{ d.reason }}. Recorded by {{ d.recorded_by }} at {{ when(d.recorded_at) }} (audited).
<strong>{{ status(loop.index)[:1]|upper }}{{ status(loop.index)[1:] }}.</strong></p>
{% else %}<p>The board has not decided yet.</p>{% endfor %}
{% if decisions %}<p>A form's raw cut "under the adopted standard" is the cut it takes when it is built after the
decision. A form built before it keeps the cut frozen at its build until a recorded re-cut (<code>exam-builder
standard recut</code>), which lists first the results that would change.</p>{% endif %}
</main></body></html>
"""


_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_CAPTION = re.compile(r"<caption>(.*?)</caption>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _scrollable(page: str) -> str:
    """Each table in a region of its own that scrolls sideways on a narrow screen and takes the keyboard's
    focus (WCAG 1.4.10's exception for data tables), named by its caption."""
    def wrap(m: re.Match) -> str:
        cap = _CAPTION.search(m.group(1))
        name = " ".join(_TAG.sub("", cap.group(1)).split()) if cap else "table"
        body = m.group(1).replace("<th>", '<th scope="col">')  # every header heads its column
        return f'<div class="scroll" role="region" tabindex="0" aria-label="{name}"><table>{body}</table></div>'
    return _TABLE.sub(wrap, page)


def _scope(view: StudyView) -> str:
    sc = view.study.scope or {}
    return "the live bank" if sc.get("bank") else "forms " + ", ".join(sc.get("forms", []))


def rows_csv(summary: Summary) -> list[list[object]]:
    """Every number of the report, one per row: section, round, form, subject, statistic, value."""
    out: list[list[object]] = [["study", "", "", "", "method", c.METHODS[summary.view.study.method]]]
    for r in summary.rounds:
        out.append(["round", r.number, "", "", "recommended_share", round(r.share, 6)])
        out.append(["round", r.number, "", "", "standard_error", "" if r.se is None else round(r.se, 6)])
        if r.icc:
            out += [["round", r.number, "", "", "icc_2_1", round(r.icc[0], 6)],
                    ["round", r.number, "", "", "icc_2_k", round(r.icc[1], 6)]]
        for ch in r.checks:
            out.append(["panelist", r.number, "", ch.panelist, "cut", round(ch.cut, 6)])
            out.append(["panelist", r.number, "", ch.panelist, "outlier", "yes" if ch.flagged else "no"])
        for it in r.spread:
            out.append(["item", r.number, "", it.item_id, "mean_share", round(it.mean, 6)])
            out.append(["item", r.number, "", it.item_id, "sd_share", "" if it.sd is None else round(it.sd, 6)])
            out.append(["item", r.number, "", it.item_id, "flagged", "yes" if it.flagged else "no"])
        for f in r.forms:
            out.append(["form", r.number, f.assignment, "", "recommended_cut", round(f.recommended, 6)])
            out.append(["form", r.number, f.assignment, "", "standard_error", "" if f.se is None else round(f.se, 6)])
            if f.adopted is not None:
                out.append(["form", r.number, f.assignment, "", "adopted_cut", f.adopted])
                if f.adopted_pass is not None:
                    out.append(["impact", r.number, f.assignment, "adopted", f"pass_rate_at_{f.adopted:.2f}",
                                round(f.adopted_pass, 6)])
            for lab, cut, rate in f.impact:
                out.append(["impact", r.number, f.assignment, lab, f"pass_rate_at_{cut:.2f}",
                            "" if rate is None else round(rate, 6)])
            if f.candidates:
                for p, rate in f.panelist_pass.items():
                    out.append(["panelist", r.number, f.assignment, p, "pass_rate_at_their_cut",
                                "" if rate is None else round(rate, 6)])
    for d in summary.view.decisions:
        out.append(["decision", d.round_no, "", d.decided_by, "adopted_share", round(d.adopted, 6)])
    return out


def write_report(summary: Summary, folder: Path, root: Path, names: bool = False,
                 zone: str | dt.tzinfo | None = None) -> tuple[Path, Path]:
    """The study report (HTML) and its CSV in ``folder``: ``standard-setting-<id>.html`` and ``.csv``; times in
    ``zone`` (the course's)."""
    view = summary.view
    s = view.study
    roles: dict[str, list] = {}
    for p in view.panel:
        roles.setdefault(p.role, []).append(p)
    role_rows = [(role, len(ps), sum(1 for p in ps if p.conflict.strip().casefold() not in ("none", "no", "")))
                 for role, ps in sorted(roles.items())]
    anon = {p.name: f"panelist {n}" for n, p in enumerate(view.panel, 1)}
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(TEMPLATE).render(
        s=s, method=c.METHODS[s.method], scope=_scope(view), items=view.items, points=view.points, panel=view.panel,
        roles=role_rows, names=names, rounds=summary.rounds, decisions=view.decisions, status=summary.status,
        exam_title=summary.exam_title,
        min_panel=c.MIN_PANEL_FOR_OUTLIERS,
        figure=_figure(summary) if summary.rounds else "", written=clock.now_shown(zone),
        when=lambda t: clock.shown(t, zone),
        flag_pct=fmt(round(s.sd_flag * 100, 6)), pct=_pct, pct1=lambda x: f"{x:.1%}", num=_num,
        sd_pct=lambda x: sd_shown(x, s.sd_flag), z=_z,
        r_rest=lambda x: "n/a" if x is None else against(x, c.LOW_CORRELATION),
        label=(lambda n: n) if names else (lambda n: anon.get(n, n)),
        fac=lambda i: facility_shown(summary.facility, i))
    html = _scrollable(html)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "round", "form", "subject", "statistic", "value"])
    for row in rows_csv(summary):
        if not names and row[0] == "panelist":
            row = [*row[:3], anon.get(str(row[3]), row[3]), *row[4:]]
        w.writerow(row)
    html_path = folder / f"standard-setting-{s.id}.html"
    csv_path = folder / f"standard-setting-{s.id}.csv"
    replace_files({html_path: html, csv_path: buf.getvalue()}, root)  # both or neither
    return html_path, csv_path


def round_fields(r: RoundView) -> str:
    """A round's progress in words."""
    done = sum(len(v) for v in r.raw.values())
    return f"round {r.number}: {'closed' if r.closed else 'open'}, {done} rating(s), {len(r.missing)} missing"
