"""Who a staff app acts as, and how that was established: the identity every audit entry carries.

A staff app's kernel (the grader's desk, the proctor's room view) serves one person. How the
person is known is recorded with every change they make (``audit.record`` adds the ``identity``
field while an identity is established in the process):

* ``hub`` (``IdentitySource.hub``): JupyterHub signed the person in. The server, never the page,
  puts the hub user's name into the kernel (``exam_builder.hub.service`` inserts a first cell
  calling ``from_hub``); the name is then fixed for the kernel's life: ``sign_in`` and typed
  names cannot change it, and ``actor`` refuses any other name.
* ``self-declared`` (``IdentitySource.self_declared``): the standalone token mode (one shared
  token on one machine): the person typed their name, and the audit trail says so.

Only the process that serves one person uses this; command-line tools record ``--by`` as before.
``StaffSignIn`` is the one sign-in of the staff desks that ask a name once (the grader's and the
coordinator's); the proctor's room view asks for the name beside its changes and takes ``actor``.
A standalone app (no hub) calls ``standalone`` before it starts.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import ExamBuilderError
from .text import text_problem


class IdentitySource(str, enum.Enum):
    """How a staff member's name was established (the audit field ``identity``)."""

    hub = "hub"
    self_declared = "self-declared"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StaffIdentity:
    """One staff member, as this process knows them: ``name`` is None until a self-declared
    sign-in; ``groups`` are the hub groups (roles) the hub reported at sign-in."""

    source: IdentitySource
    name: str | None = None
    groups: tuple[str, ...] = ()

    @property
    def fixed(self) -> bool:
        """The name came from the server (the hub): nothing typed on the page may replace it."""
        return self.source is IdentitySource.hub


_current: StaffIdentity | None = None


def current() -> StaffIdentity | None:
    """The identity established in this process, if any."""
    return _current


def from_hub(name: str, groups: list[str] | tuple[str, ...] = ()) -> StaffIdentity:
    """Called once, by the server-inserted first cell of a hub-served staff app's kernel."""
    global _current
    if _current is not None and _current.fixed and _current.name != name:
        raise ExamBuilderError("this page already belongs to another signed-in person; reload it")
    problem = text_problem(name, 128) if name else "is empty"
    if problem is not None:
        raise ExamBuilderError(f"the hub user's name {problem}")
    _current = StaffIdentity(IdentitySource.hub, name, tuple(groups))
    return _current


def self_declared(name: str | None = None) -> StaffIdentity:
    """The standalone token mode: the name (once typed) is whatever the person says it is."""
    global _current
    if _current is not None and _current.fixed:
        raise ExamBuilderError(f"you are signed in through JupyterHub as {_current.name}; "
                               "the name cannot be changed here")
    _current = StaffIdentity(IdentitySource.self_declared, name)
    return _current


def hub_name() -> str | None:
    """The hub user's name when this process was signed in through JupyterHub, else None (the one
    test the staff apps make before offering a name box)."""
    return _current.name if _current is not None and _current.fixed else None


def actor(typed: str | None = None) -> str | None:
    """The name to record: the hub's when signed in through the hub (whatever was typed),
    else the typed one (self-declared). None when nobody is known."""
    if hub_name() is not None:
        return hub_name()
    typed = (typed or "").strip()
    return typed or None


def name_key(name: str | None) -> str:
    """A name as a sign-in compares it with the names it knows (a panel's seats, the adjudicators the
    settings name): case, surrounding and repeated spaces do not matter ("ann park " is Ann Park)."""
    return " ".join((name or "").split()).casefold()


def standalone() -> None:
    """A staff app started without the hub (the standalone token mode): names are typed and recorded
    as self-declared. Nothing changes when the server already said who this is (the hub)."""
    if _current is None:
        self_declared()


class StaffSignIn:
    """One staff desk's sign-in: the hub user when JupyterHub signed the person in (nothing to type,
    and no other name accepted), else a name typed once, recorded as self-declared.

    ``recorded`` and ``why`` word its refusals: "scores" / "every score records who gave it".
    """

    def __init__(self, recorded: str, why: str, known: Callable[[], Iterable[str]] | None = None) -> None:
        self.recorded, self.why = recorded, why
        self.known = known  # the names this desk already knows (settings, earlier records): one spelling each
        self.typed: str | None = None

    @property
    def hub_signed(self) -> bool:
        """Signed in through JupyterHub: the name is the server's, never typed."""
        return hub_name() is not None

    @property
    def name(self) -> str | None:
        """Who acts: the hub user, else the name typed (None before a sign-in)."""
        return actor(self.typed)

    def sign_in(self, typed: str) -> str:
        """Token mode: the name typed once (the text rule, at least two characters)."""
        if self.hub_signed:
            raise ExamBuilderError(f"you are signed in through JupyterHub as {hub_name()}; "
                                   f"{self.recorded} are recorded under that name only")
        name = " ".join((typed or "").split())  # "hank  grader" is recorded as it is shown: "hank grader"
        problem = text_problem(name, 128) if len(name) >= 2 else "is too short"
        if problem is not None:
            raise ExamBuilderError(f"type your name to sign in (your name {problem}): {self.why}")
        # a name the desk knows, typed in another case, is recorded as it is known ("carla diaz" is Carla Diaz),
        # so one person is one name in the audit trail and the rater statistics
        name = next((k for k in (self.known() if self.known else ()) if name_key(k) == name_key(name)), name)
        if _current is not None:  # the standalone app: the audit trail says it was typed
            self_declared(name)
        self.typed = name
        return name

    def require(self) -> str:
        """The name to record with a change; refused before a sign-in."""
        name = self.name
        if not name:
            raise ExamBuilderError(f"sign in first: {self.why}")
        return name


def reset() -> None:
    """Forget the identity (tests, which run several apps in one process)."""
    global _current
    _current = None
