"""Demo stage: a made-up cohort of 60 candidates, imported the way a coordinator would.

Writes the program's sheets under the demo course's ``rosters/`` (git-ignored: even made-up
candidate data stays out of git) and imports them through the same functions as the CLI:
roster, accommodations (extended time approved for some, one scribe, one request not yet
approved), attendance over 6 classes of 3 modules (a few candidates at exactly 4 late or
absent, mixed, one at 5, one at exactly 3 and so still eligible) and homework. Then prints
the eligibility table for ``ctx.exam``.

Reads from ``ctx.state``: nothing. Leaves in ``ctx.state``:
- ``"candidates"``: every candidate id, sorted;
- ``"eligible"``: ids eligible for ``ctx.exam`` now;
- ``"accommodations"``: candidate id -> approved kinds (e.g. ``["extended_time"]``);
- ``"rosters"``: the folder of the generated sheets.
"""
from __future__ import annotations

import datetime as dt
import random

from ... import clock
from ...cli.records import eligibility_table
from ...files import private_dir
from ...model.states import AccommodationStatus
from ...records.accommodations import import_accommodations, list_accommodations
from ...records.attendance import import_attendance, import_homework
from ...records.csvfile import write_csv_atomic
from ...records.eligibility import evaluate
from ...records.roster import import_roster

SEED = 2026
COHORT = "2026-spring"
CLASSES = 6
FIRST = ["Avery", "Jordan", "Rowan", "Quinn", "Marisol", "Dana", "Tobias", "Imani", "Corin", "Lena", "Priya",
         "Mateo", "Noor", "Ezra", "Sunny", "Hollis", "Keiko", "Farah", "Otis", "Wren", "Delphine", "Amadou",
         "Brisa", "Callum", "Yara", "Linus", "Odalys", "Teodor", "Zuri", "Anselm"]
LAST = ["Ashgrove", "Bellweather", "Cobblestone", "Dunmore", "Everhart", "Fairbank", "Glenholm", "Hartwell",
        "Ivesdale", "Juniperhill", "Kestrel", "Larkspur", "Merriweather", "Northcott", "Oakhaven", "Pemberly",
        "Quillfeather", "Rosemont", "Silverbrook", "Thornfield", "Umberland", "Valeport", "Westerly", "Yarrowby"]

# (candidate number, late/absent pattern) for the attendance edge cases: (class, module, status)
EDGES = {
    7: [(1, 2, "late"), (2, 1, "absent"), (4, 3, "late"), (5, 2, "absent")],  # exactly 4, mixed: not eligible
    19: [(2, 1, "absent"), (3, 3, "late"), (5, 2, "absent"), (6, 1, "late")],  # exactly 4, mixed: not eligible
    33: [(1, 1, "late"), (2, 2, "late"), (3, 1, "absent"), (4, 2, "absent"), (6, 3, "late")],  # 5
    45: [(1, 3, "late"), (2, 3, "late"), (3, 2, "late"), (4, 1, "late")],  # exactly 4, all late
    12: [(2, 2, "late"), (3, 1, "absent"), (5, 3, "late")],  # exactly 3: still eligible
}
EXTENDED = {3: "", 14: "", 27: "2.0", 50: ""}  # candidate number -> multiplier ("" = the policy's)
SCRIBE = 21
SEPARATE_ROOM = 9
REQUESTED_ONLY = 38  # extended time requested, letter not yet on file: not in effect


def cid(n: int) -> str:
    return f"cps26-{n:03d}"


def write_sheets(folder, n: int = 60, seed: int = SEED, training_ended: dt.date | None = None, *,
                 zone: dt.tzinfo) -> dict[str, object]:
    """The made-up cohort's four sheets; the same seed (and training end) writes the same files.

    ``training_ended``: the cohort's last class; by default two weeks before today in the room (``zone``),
    the program's usual gap before the exam (so the report's time to certification reads as the program's would).
    """
    ended = (training_ended or clock.today(zone) - dt.timedelta(days=14)).isoformat()
    rng = random.Random(seed)
    private_dir(folder, None)  # candidate data: 0700, whatever the umask (files.py, the one write door)
    names = set()
    roster = []
    while len(roster) < n:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if (first, last) in names:
            continue
        names.add((first, last))
        k = len(roster) + 1
        roster.append([cid(k), first, last, f"{first}.{last}{k}@example.org".lower(), COHORT, ended])
    paths = {name: folder / f"{name}.csv" for name in ("roster", "accommodations", "attendance", "homework")}
    write_csv_atomic(paths["roster"], ["Candidate ID", "First Name", "Last Name", "Email", "Cohort", "Training ended"],
                     roster, root=None)

    acc = [[cid(k), "extended_time", m, "", "2026-01-15", "2026-01-10", "approved", "Coordinator Lee"]
           for k, m in EXTENDED.items()]
    acc.append([cid(SCRIBE), "scribe", "", "writes the answers the candidate dictates", "2026-01-20", "2026-01-12",
                "approved", "Coordinator Lee"])
    acc.append([cid(SEPARATE_ROOM), "separate_room", "", "", "2026-01-18", "2026-01-11", "approved", "Coordinator Lee"])
    acc.append([cid(REQUESTED_ONLY), "extended_time", "", "", "", "2026-02-02", "requested", ""])
    write_csv_atomic(paths["accommodations"], ["candidate id", "kind", "multiplier", "details", "letter on file",
                                               "requested on", "status", "approved by"], acc, root=None)

    attendance = []
    for k in range(1, n + 1):
        misses = {(c, m): st for c, m, st in EDGES.get(k, [])}
        if k not in EDGES:  # everyone else: at most 2 late or absent
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
                misses[(rng.randint(1, CLASSES), rng.randint(1, 3))] = rng.choice(["late", "absent"])
        for c in range(1, CLASSES + 1):
            for m in range(1, 4):
                attendance.append([cid(k), c, m, misses.get((c, m), "present")])
    write_csv_atomic(paths["attendance"], ["candidate", "class", "module", "status"], attendance, root=None)

    homework = []
    for k in range(1, n + 1):
        for c in range(1, CLASSES + 1):
            done = rng.random() < 0.9
            homework.append([cid(k), f"homework-{c}", c, "yes" if done else "no", 10 if done else "", 10])
    write_csv_atomic(paths["homework"], ["candidate", "assignment", "class", "turned in", "score", "max score"],
                     homework, root=None)
    return paths


def run(ctx) -> None:
    course, console = ctx.course, ctx.console
    folder = course.root / "rosters"
    paths = write_sheets(folder, zone=course.zone)
    report = import_roster(course, paths["roster"], ctx.actor)
    console.print(f"roster: {len(report.created)} candidates imported (nbgrader students too) from {report.file}")
    acc = import_accommodations(course, paths["accommodations"], ctx.actor)
    console.print(f"accommodations: {len(acc.requested)} requested, {len(acc.approved)} approved")
    att = import_attendance(course, paths["attendance"], ctx.actor)
    console.print(f"attendance: {att.created} module records")
    hw = import_homework(course, paths["homework"], ctx.actor)
    console.print(f"homework: {hw.created} records")

    with course.db.read() as s:
        rows = evaluate(s, course.policy, ctx.exam, zone=course.zone)
        kinds: dict[str, set[str]] = {}  # one query for every approved accommodation
        for a in list_accommodations(s, status=AccommodationStatus.approved):
            kinds.setdefault(a.candidate_id, set()).add(a.kind)
    console.print(eligibility_table(rows, course.policy, ctx.exam))
    ctx.state["candidates"] = [r.candidate_id for r in rows]
    ctx.state["eligible"] = [r.candidate_id for r in rows if r.eligible]
    ctx.state["accommodations"] = {k: sorted(v) for k, v in sorted(kinds.items())}
    ctx.state["rosters"] = folder
