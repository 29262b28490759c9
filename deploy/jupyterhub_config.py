"""JupyterHub for an exam-builder course: settings from environment variables (deploy/README.md)."""
from exam_builder.hub.config import configure

configure(c)  # noqa: F821 (JupyterHub's config object)
# The program's own authenticator goes here, e.g.:
# c.JupyterHub.authenticator_class = "generic-oauth"
