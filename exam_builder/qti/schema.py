"""Validation of QTI 3.0 files against the IMS schemas kept in ``qti/schema/`` (see its LICENSE.md).

The item and stimulus schema is IMS's QTI 3.0 ASI schema in its SBAC profile
(``imsqti_asiv3p0_sbacv1p0_v1p0.xsd``, Final Release 1 May 2022, same namespace): the base file could
not be had here, and the profile differs from it only in ``data-*`` attributes, which exam-builder never
writes (``tests/qti`` holds that). The manifest schema is IMS's QTI 3.0 profile of Content Packaging 1.2
with LOM (loose) 1.3.2. Three imported W3C namespaces (XLink, MathML, SSML) are stand-ins that declare
what the IMS schemas reference, laxly; exam-builder writes none of them. Nothing is fetched: the parser
refuses the network and the XLink import is resolved to the local file.
"""
from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from ..errors import Location, Problem

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
ITEM_XSD = SCHEMA_DIR / "qtiv3p0" / "imsqti_asiv3p0_sbacv1p0_v1p0.xsd"
MANIFEST_XSD = SCHEMA_DIR / "qtiv3p0" / "imsqtiv3p0_imscpv1p2_v1p0.xsd"


class _Local(etree.Resolver):
    """Resolve the one remote import (XLink) to the local stand-in."""

    def resolve(self, url, pubid, context):  # noqa: ANN001 (lxml's signature)
        if url and url.endswith("/xlink.xsd"):
            return self.resolve_filename(str(SCHEMA_DIR / "w3" / "xlink.xsd"), context)
        return None


@functools.lru_cache(maxsize=None)
def _schema(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Local())
    return etree.XMLSchema(etree.parse(str(path), parser))


def schema_for(root: etree._Element) -> etree.XMLSchema | None:
    """The schema of a QTI 3.0 item/stimulus or QTI 3.0 manifest, by the root's namespace."""
    ns = etree.QName(root).namespace
    if ns == "http://www.imsglobal.org/xsd/imsqtiasi_v3p0":
        return _schema(ITEM_XSD)
    if ns == "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1":
        return _schema(MANIFEST_XSD)
    return None


def validate(data: bytes, label: str) -> list[Problem]:
    """Every schema error of one file, located at its line; a file of an unknown namespace is one."""
    try:
        root = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return [Problem(Location(label, line=exc.lineno), f"not well-formed XML: {exc.msg}")]
    schema = schema_for(root)
    if schema is None:
        return [Problem(Location(label, line=root.sourceline), f"no QTI 3.0 schema for <{root.tag}>")]
    if schema.validate(etree.ElementTree(root)):
        return []
    return [Problem(Location(label, line=e.line), e.message) for e in schema.error_log]
