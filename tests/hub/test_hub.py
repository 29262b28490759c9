"""The staff apps behind a real JupyterHub, in a real browser (Debian's chromium through Playwright).

What the issue asks, checked end to end through configurable-http-proxy and PostgreSQL:
sign-in through the hub; each role opens only its app (403 elsewhere, decided on the server);
ratings, proctor changes and a coordinator's accommodation decision carry the hub user, with
``identity: hub`` in the audit trail; two graders rating one queue at once; the candidates' host
reaches no hub page, staff page or token; the staff kernels hold no hub credential; the shared
formgrader shows the course's PostgreSQL gradebook.
"""
from __future__ import annotations

import re
from collections import defaultdict

import gradingkit as kit
import psutil
import pytest
from sqlalchemy import select

from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.records.audit import verify
from exam_builder.records.models import AuditEntry, Rating, Sitting

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]

HUB_MARKS = ("jupyterhub", "JupyterHub", "/hub/login", "_xsrf", "api_token", "Sign in")


def test_a_stranger_is_sent_to_the_hub_and_the_candidates_host_is_not_the_hubs(hub_site):
    for name, path in (("grader", ""), ("proctor", ""), ("coordinator", ""), ("formgrader", "formgrader"),
                       ("panelist", "")):
        r = hub_site.get(f"{name}--service.hub.localhost", f"/services/{name}/{path}")
        assert r.status_code in (302, 303) and "/hub/api/oauth2/authorize" in r.headers["Location"]
    # every path on the candidates' host is their app: Voila's 404, never the hub's pages
    for path in ("/hub/login", "/hub/", "/hub/api/user", "/hub/api/", "/services/grader/", "/services/proctor/",
                 "/services/coordinator/",
                 "/services/formgrader/", "/user/grace/", "/hub/oauth_login"):
        r = hub_site.get("exam.localhost", path)
        while r.status_code in (301, 302, 303, 307):  # Voila sends unknown paths to its (empty) files
            location = r.headers["Location"]
            assert location.startswith("/") and not location.startswith(("/hub", "/services")), (path, location)
            r = hub_site.get("exam.localhost", location)
        assert r.status_code in (403, 404), (path, r.status_code)
        assert not any(m in r.text for m in HUB_MARKS), path
        assert not any(k.lower().startswith(("jupyterhub", "_xsrf")) for k in r.cookies.keys()), path


#: The pages later tests start from, as first opened (``hub_desks.app``): opened here, they are not opened twice.
KEPT = {("grace", "grader"), ("pat", "proctor"), ("pia", "panelist"), ("cora", "coordinator")}


@pytest.mark.parametrize("user, allowed", [
    ("grace", {"grader"}), ("pat", {"proctor"}), ("cora", {"coordinator", "proctor", "formgrader", "grader"}),
    ("ada", set()), ("pia", {"panelist"})])
def test_each_role_opens_only_its_apps(hub_desks, user, allowed):
    for name in ("grader", "proctor", "coordinator", "formgrader", "panelist"):
        if (user, name) in KEPT:
            _page, status = hub_desks.app(user, name)
            assert status == 200, (user, name, status)
            continue
        page, response = hub_desks.open(user, name)
        if name in allowed:
            assert response.status == 200, (user, name, response.status)
        else:
            assert response.status == 403, (user, name, response.status)
            assert not any(t in page.content() for t in ("Rubric", "room view", "Coordinator's desk",
                                                         "Panelist's screen"))
        page.close()


#: A grader desk's headings: the first screen, a response to rate, the end of the queue.
DESK = re.compile(r"^(Choose a question|Response R-|Nothing left)")


def test_two_graders_rate_one_queue_at_once_as_their_hub_users(hub_site, hub_desks):
    course = hub_site.course
    item, _rubric = open_items(course, kit.EXAM)[0]
    label = next(c for c in __import__("exam_builder.grading.grader_app", fromlist=["x"])
                 .GraderSession(course, kit.EXAM).items() if c.item_id == item).label
    criteria = len(RatingQueue(course, kit.EXAM, item).rubric.criteria)
    desks = {}
    for user in ("grace", "gus"):
        page, status = hub_desks.app(user, "grader")
        assert status == 200
        page.get_by_role("heading", name="Choose a question").wait_for()
        page.get_by_text(f"Signed in through JupyterHub as {user}").wait_for()
        assert page.get_by_label("Your name").count() == 0  # nothing to type: the hub said who this is
        page.get_by_label("Written question").select_option(label=label)
        page.get_by_role("button", name="Start scoring").click()
        desks[user] = page
    heading = re.compile(r"^(Response R-|Nothing left)")
    saved = defaultdict(int)
    active = dict(desks)
    while active:  # turn about: each saves one response, both desks open on the same queue
        for user, page in list(active.items()):
            h = page.get_by_role("heading", name=heading)
            h.wait_for()
            if h.inner_text().startswith("Nothing left"):
                del active[user]
                continue
            before = h.inner_text()
            keys = page.get_by_label("Shortcut keys")
            keys.click()
            keys.press_sequentially("1" * criteria)
            keys.press("Enter")
            page.get_by_text("Saved. Your rating of response").wait_for()
            page.wait_for_function("t => ![...document.querySelectorAll('h2')].some(h => h.innerText === t)",
                                   arg=before)
            saved[user] += 1
    assert saved["grace"] and saved["gus"], saved
    with course.db.read() as s:
        rows = s.execute(select(Rating.sitting_id, Rating.role, Rating.rater, Rating.score)
                         .where(Rating.item_id == item)).all()
        entries = s.execute(select(AuditEntry.actor, AuditEntry.details).where(AuditEntry.action == "rating")).all()
        assert verify(s).ok
    assert rows and all(r.score is not None for r in rows)
    assert {r.rater for r in rows} == {"grace", "gus"}
    by_sitting = defaultdict(list)
    for sid, _role, rater, _score in rows:
        by_sitting[sid].append(rater)
    assert all(len(raters) == len(set(raters)) for raters in by_sitting.values())  # never both roles
    assert len(entries) == sum(saved.values())
    assert {actor for actor, _d in entries} == {"grace", "gus"}
    assert all(details.get("identity") == "hub" for _a, details in entries)


def test_the_proctor_acts_as_the_hub_user_and_cannot_rate(hub_site, hub_desks):
    import datetime as dt

    from exam_builder.records.models import Candidate, utcnow

    course = hub_site.course
    now = utcnow()
    with course.db.transaction() as s:  # a second attempt in progress today, for the room view to act on
        first = s.execute(select(Sitting).order_by(Sitting.id)).scalars().first()
        cand = s.get(Candidate, first.candidate_id)
        sit = Sitting(candidate_id=first.candidate_id, exam_id=first.exam_id, seq=2, attempt_no=2,
                      form_id=first.form_id,
                      room="Hall A", access_code_hash="x" * 64, status="in_progress", time_limit_minutes=90,
                      opened_by="test", scheduled_on=now.date(), opens_at=now - dt.timedelta(hours=1),
                      closes_at=now + dt.timedelta(hours=8), started_at=now - dt.timedelta(minutes=5))
        s.add(sit)
        s.flush()
        sid, name = sit.id, cand.name
    page, status = hub_desks.app("pat", "proctor")  # the room view refreshes itself: the new sitting comes
    assert status == 200
    name_box = page.get_by_label("Your name")
    name_box.wait_for()
    assert name_box.input_value() == "pat" and name_box.is_disabled()
    page.get_by_text("Signed in through JupyterHub as pat").wait_for()
    page.get_by_role("button", name=f"Actions for {name}").click()
    page.get_by_label("Reason", exact=True).fill("computer froze")
    page.get_by_role("button", name="Add time").click()
    page.get_by_text(re.compile(f"Added 10 minutes for {re.escape(name)}")).wait_for()
    grader, response = hub_desks.open("pat", "grader")  # a proctor cannot rate
    assert response.status == 403 and "Rubric" not in grader.content()
    grader.close()
    with course.db.read() as s:
        entry = s.execute(select(AuditEntry.actor, AuditEntry.details).where(
            AuditEntry.action == "add_time", AuditEntry.entity_id == str(sid))).one()
    assert entry.actor == "pat" and entry.details["identity"] == "hub" and entry.details["minutes"] == 10


def test_the_coordinator_decides_an_accommodation_as_the_hub_user(hub_site, hub_desks):
    from exam_builder import clock
    from exam_builder.records import accommodations
    from exam_builder.records.models import Accommodation

    course = hub_site.course
    with course.db.transaction() as s:
        cid = s.execute(select(Sitting.candidate_id).order_by(Sitting.id)).scalars().first()
        acc = accommodations.request(s, course.policy, cid, "extended_time", "intake",
                                     letter_on_file=clock.today(course.zone), details="seat near the door",
                                     zone=course.zone)
        acc_id, name = acc.id, acc.candidate.name
    page, response = hub_desks.open("cora", "coordinator")
    try:
        assert response.status == 200
        page.get_by_text("Signed in through JupyterHub as cora").wait_for()
        assert page.get_by_label("Your name").count() == 0  # nothing to type: the hub said who this is
        page.get_by_role("radio", name=re.compile(re.escape(name))).check()
        page.get_by_label("Reason (kept with your decision)").fill("letter seen")
        page.get_by_role("button", name="Approve").click()
        page.get_by_text(re.compile(f"Approved extra time for {re.escape(name)}")).wait_for()
    finally:
        page.close()
    with course.db.read() as s:
        assert s.get(Accommodation, acc_id).approved_by == "cora"
        entry = s.execute(select(AuditEntry.actor, AuditEntry.details).where(
            AuditEntry.action == "accommodation.approve", AuditEntry.entity_id == str(acc_id))).one()
        assert verify(s).ok
    assert entry.actor == "cora" and entry.details["identity"] == "hub"


def test_staff_kernels_hold_no_hub_credentials(hub_desks):
    page, status = hub_desks.app("gus", "grader")  # a desk open: its kernel runs under the grader service
    assert status == 200
    page.get_by_role("heading", name=DESK).first.wait_for()
    kernels = [p for p in psutil.process_iter(["cmdline"])
               if "ipykernel" in " ".join(p.info["cmdline"] or []) and _under_service(p)]
    assert kernels
    for k in kernels:
        assert not [v for v in k.environ() if v.startswith("JUPYTERHUB_")], k.pid


def _under_service(p: psutil.Process) -> bool:
    try:
        return any("hub-service" in " ".join(a.cmdline()) for a in p.parents())
    except psutil.Error:
        return False


def test_the_formgrader_service_shows_the_courses_postgresql_gradebook(hub_site, hub_desks):
    """After scoring on PostgreSQL, the shared formgrader (as cora) lists a submission with the
    gradebook's score: the service reads the course's own database, not a gradebook of its own."""
    from exam_builder.grading.objective import grade_exam

    course = hub_site.course
    grade_exam(course, kit.EXAM, actor="tester", workers=1)
    with course.db.gradebook() as gb:
        form = next(a.name for a in gb.assignments if any(s.student_id == "cand001" for s in a.submissions))
        sub = gb.find_submission(form, "cand001")
        expected = f"{round(sub.score, 2):g} / {round(sub.max_score, 2):g}"
    page = hub_desks.ctx("cora").new_page()
    try:
        page.set_default_timeout(90_000)
        response = page.goto(hub_site.service("formgrader") + f"formgrader/manage_submissions/{form}")
        assert response.status == 200
        # the list fills in by AJAX, row by row: wait for cand001's row with its score, not for any row
        page.wait_for_function("""want => [...document.querySelectorAll('table tbody tr')].some(r =>
            r.cells.length > 1 && r.cells[1].innerText.trim() === 'cand001' && r.innerText.includes(want))""",
                               arg=expected)
        table = page.eval_on_selector_all("table tbody tr",
                                          "rs => rs.map(r => [...r.cells].map(c => c.innerText.trim()))")
    finally:
        page.close()
    row = " | ".join(next(r for r in table if len(r) > 1 and r[1] == "cand001"))
    assert expected in row, (expected, table)


#: What a Jupyter server offers beyond the formgrader: none of it answers through the formgrader service.
NOT_THE_FORMGRADER = [("GET", "api/kernels"), ("POST", "api/kernels"), ("GET", "api/sessions"),
                      ("GET", "api/contents"), ("GET", "api/contents/.exam-builder/secret"),
                      ("GET", "files/nbgrader_config.py"), ("GET", "api/terminals"), ("POST", "api/terminals"),
                      ("GET", "terminals/1"), ("GET", "lab"), ("GET", "tree"), ("GET", "api/kernelspecs"),
                      ("GET", "formgrader/%2e%2e/api/contents"), ("POST", "formgrader/api/assignment/x/autograde")]


def _fetch_in_page(page, method: str, url: str, body: str | None = None) -> int:
    """A request from the signed-in page itself (its cookies and ``_xsrf``), as a script in it would send."""
    return page.evaluate("""async ([method, url, body]) => {
        const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
        const r = await fetch(url, {method, body, credentials: 'same-origin',
            headers: {'X-XSRFToken': decodeURIComponent(xsrf), 'Content-Type': 'application/json'}});
        return r.status; }""", [method, url, body])


def test_the_formgrader_is_read_only_and_runs_no_code(hub_site, hub_desks):
    """cora (a coordinator) reads the gradebook through the formgrader, and nothing else answers:
    no kernel, terminal, contents or file, and a score typed into the formgrader is refused with the
    gradebook unchanged. ada (an author) is refused the whole service by the hub."""
    from exam_builder.grading.objective import grade_exam

    course = hub_site.course
    grade_exam(course, kit.EXAM, actor="tester", workers=1)
    with course.db.gradebook() as gb:
        form = next(a.name for a in gb.assignments if any(s.student_id == "cand001" for s in a.submissions))
        sub = gb.find_submission(form, "cand001")
        grade = next(g for nb in sub.notebooks for g in nb.grades)
        grade_id, before = grade.id, (grade.auto_score, grade.manual_score, grade.extra_credit)
    base = hub_site.service("formgrader")
    page = hub_desks.ctx("cora").new_page()
    try:
        page.set_default_timeout(90_000)
        assert page.goto(base + f"formgrader/manage_submissions/{form}").status == 200
        for method, path in NOT_THE_FORMGRADER:
            assert _fetch_in_page(page, method, base + path) == 403, (method, path)
        assert _fetch_in_page(page, "GET", base + f"formgrader/api/grade/{grade_id}") == 200  # reading is fine
        for method in ("PUT", "POST", "DELETE"):
            assert _fetch_in_page(page, method, base + f"formgrader/api/grade/{grade_id}",
                                  '{"manual_score": 0, "extra_credit": 5}') == 403, method
    finally:
        page.close()
    with course.db.gradebook() as gb:
        g = next(g for nb in gb.find_submission(form, "cand001").notebooks for g in nb.grades if g.id == grade_id)
        assert (g.auto_score, g.manual_score, g.extra_credit) == before
    page = hub_desks.ctx("ada").new_page()
    try:
        for path in ("formgrader", "api/contents", "api/kernels", f"formgrader/submissions/{sub.notebooks[0].id}"):
            response = page.goto(base + path)
            assert response.status == 403, (path, response.status)
            assert "cand001" not in page.content()
    finally:
        page.close()


def test_a_panelist_rates_as_the_hub_user(hub_site, hub_desks):
    """pia (the panelists group) opens the panelist's screen signed in by the hub: no name to type; her rating
    is recorded and audited as pia, identity hub."""
    from exam_builder.records.models import StudyRating

    page, status = hub_desks.app("pia", "panelist")
    assert status == 200
    page.get_by_text("Signed in through JupyterHub as pia").wait_for()
    assert page.get_by_label("Your name").count() == 0
    page.get_by_role("heading", name=re.compile(r"^Item 1 of \d+")).wait_for()
    page.get_by_role("radio", name="60%").check()
    page.get_by_role("button", name="Save rating").click()
    page.get_by_role("status").filter(has_text=re.compile("Saved: .* rated 60%")).first.wait_for()
    with hub_site.course.db.read() as s:
        row = s.execute(select(StudyRating.rated_by, StudyRating.value)).one()
        entry = s.execute(select(AuditEntry.actor, AuditEntry.details)
                          .where(AuditEntry.action == "study.ratings")).one()
    assert tuple(row) == ("pia", 60.0) and entry.actor == "pia" and entry.details["identity"] == "hub"


def test_the_coordinator_validates_a_key_and_decides_an_appeal_as_the_hub_user(hub_site, hub_desks):
    """Issue 26 through the hub: cora reads the key-validation screen (a comment shown by form, no name), records a
    decision, reads its impact, applies it; records a procedure appeal and decides it. Every entry is cora's, with
    ``identity: hub``, and the chain verifies."""
    from exam_builder import clock
    from exam_builder.grading.objective import grade_exam
    from exam_builder.records.models import Appeal, ItemComment, KeyDecision, utcnow

    course = hub_site.course
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    with course.db.transaction() as s:
        sit = s.execute(select(Sitting).order_by(Sitting.id)).scalars().first()
        item = kit.keyed_entries(kit.Manifest.model_validate(s.get(kit.Form, sit.form_id).manifest))[0].item_id
        s.add(ItemComment(sitting_id=sit.id, item_id=item, text="The key looks wrong to me.",
                          recorded_at=sit.started_at))
        sid = sit.id
    page, status = hub_desks.app("cora", "coordinator")  # each screen reads the database as it is shown
    assert status == 200
    page.get_by_text("Signed in through JupyterHub as cora").wait_for()
    page.get_by_role("button", name="Key validation").click()
    page.get_by_role("heading", name=re.compile(r"Key validation: \d+ item line")).wait_for()
    page.get_by_text(re.compile(r"Form [AB]: The key looks wrong to me\.")).wait_for()
    page.get_by_role("radio", name=re.compile(f"^{re.escape(item)} ")).check()
    page.get_by_role("radio", name="Keep the key").check()
    page.get_by_label("Reason (kept with the decision)").fill("the key is right; the stem is clear")
    page.get_by_role("button", name="Record and show the impact").click()
    page.get_by_text("Nothing has changed yet").wait_for()
    page.get_by_role("button", name="Apply this decision").click()
    page.locator("p.eb-ok").filter(has_text=re.compile(r"Decision \d+ applied")).wait_for()
    page.get_by_role("button", name="Appeals").click()
    page.get_by_role("heading", name=re.compile(r"Appeals: \d+")).wait_for()
    page.get_by_label("Sitting number").fill(str(sid))
    page.get_by_role("radio", name="How the exam was run").check()
    page.get_by_label("The candidate's own words").fill("The room was too loud to think.")
    page.get_by_label("Received on").fill(clock.wall(utcnow(), course.zone).date().isoformat())
    page.get_by_role("button", name="Record the appeal").click()
    page.locator("p.eb-ok").filter(has_text=re.compile(r"Appeal \d+ recorded")).wait_for()
    page.get_by_role("radio", name="Denied").check()
    page.get_by_label("Reason (given in the candidate's letter)").fill("the proctor's log shows a quiet room")
    page.get_by_role("button", name="Record the decision").click()
    page.locator("p.eb-ok").filter(has_text=re.compile(r"Appeal \d+ denied")).wait_for()
    with course.db.read() as s:
        d = s.execute(select(KeyDecision)).scalar_one()
        assert d.decided_by == "cora" and d.applied_by == "cora" and d.applied_at is not None
        assert s.execute(select(Appeal.decided_by)).scalar_one() == "cora"
        entries = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.details).where(
            AuditEntry.action.in_(["key.decision", "key.applied", "appeal.recorded", "appeal.decided"]))).all()
        assert verify(s).ok
    assert {e.action for e in entries} == {"key.decision", "key.applied", "appeal.recorded", "appeal.decided"}
    assert all(e.actor == "cora" and e.details["identity"] == "hub" for e in entries), entries
