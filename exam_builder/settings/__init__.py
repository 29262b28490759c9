"""Every settings class of exam-builder: traitlets ``Configurable``s read from ``nbgrader_config.py``.

Bottom layer (docs/architecture.md): these modules need traitlets and the foundation only, so
``Course`` reads every one of them with plain imports, and the reference
(``scripts/docs_reference.py``) lists them without importing the server or the room view.
``SETTINGS`` is the list, by the ``Course`` property that holds each one.
"""
from __future__ import annotations

from traitlets.config import Configurable

from .bank import BankSettings
from .delivery import DeliverySettings
from .grading import GradingSettings
from .policy import ProgramPolicy
from .proctor import ProctorSettings
from .recourse import RecourseSettings
from .report import ReportSettings
from .server import ServerSettings

__all__ = ["SETTINGS", "BankSettings", "DeliverySettings", "GradingSettings", "ProctorSettings", "ProgramPolicy",
           "ServerSettings", "ReportSettings", "RecourseSettings"]

#: Every settings class (``c.<Class>.<name>`` in ``nbgrader_config.py``), by the ``Course`` property that holds it.
SETTINGS: dict[str, type[Configurable]] = {
    "policy": ProgramPolicy,
    "grading_settings": GradingSettings,
    "delivery_settings": DeliverySettings,
    "proctor_settings": ProctorSettings,
    "server_settings": ServerSettings,
    "bank_settings": BankSettings,
    "report_settings": ReportSettings,
    "recourse_settings": RecourseSettings,
}
