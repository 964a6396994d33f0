"""Parsing XML from strangers: no DTD loading, no network, no entity expansion, bounded size.

lxml's defaults resolve entities and may load DTDs; articles in the wild reference their DTD by URL
and occasionally carry entity bombs or XXE payloads. Everything XML in CiteLens goes through
:func:`parse_xml`, which refuses those outright and names the file in the error.
"""

from __future__ import annotations

import re

from lxml import etree

from citelens.errors import HostileInputError, InputTooLargeError, MalformedInputError

MAX_XML_BYTES = 50 * 1024 * 1024  # a full-text article is rarely over 2 MB; 50 MB leaves room for monsters
MAX_ATTRIBUTE_CHARS = 1_000_000

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.I)


class _NoNetworkResolver(etree.Resolver):
    def resolve(self, url, pubid, context):  # noqa: ANN001 - lxml's signature
        # Any attempt to fetch an external resource gets an empty document instead.
        return self.resolve_string("", context)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,  # keeps libxml2's own limits on depth and text node size
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )
    parser.resolvers.add(_NoNetworkResolver())
    return parser


def parse_xml(data: bytes, source: str, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse ``data`` safely and return the root element, or raise an :class:`InputError` naming ``source``."""
    if not data or not data.strip():
        raise MalformedInputError(source, "empty file")
    if len(data) > max_bytes:
        raise InputTooLargeError(source, f"file is {len(data):,} bytes; the limit is {max_bytes:,}")
    head = data[:200_000]
    # Internal DTD subsets with entity declarations are how billion-laughs and XXE attacks arrive;
    # real JATS/TEI never needs them, so refuse instead of trying to expand safely.
    if _DOCTYPE_SUBSET.search(head) and _ENTITY_DECL.search(data):
        raise HostileInputError(source, "XML declares entities in an internal DTD subset (entity bomb / XXE risk); refused")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc)
        if "encoding" in msg.lower() or "utf-8" in msg.lower() or "Input is not proper UTF-8" in msg:
            raise MalformedInputError(source, f"bad text encoding: {msg}") from None
        raise MalformedInputError(source, f"not well-formed XML: {msg}") from None
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise MalformedInputError(source, f"unreadable XML: {exc}") from None
    if root is None:
        raise MalformedInputError(source, "no XML root element")
    # Both checks run inside libxml2 (XPath / typed iteration) rather than visiting every node in Python.
    # (a file shorter than the limit cannot hold such an attribute: skip the scan)
    long_attrs = root.xpath(f"//@*[string-length(.) > {MAX_ATTRIBUTE_CHARS}]") if len(data) > MAX_ATTRIBUTE_CHARS else []
    if long_attrs:
        owner = long_attrs[0].getparent()
        raise HostileInputError(source, f"attribute of <{local(owner.tag)}> is {len(long_attrs[0]):,} characters; refused")
    for ent in root.iter(etree.Entity):
        # Unresolved entity references survive as nodes when resolve_entities=False: refuse them.
        if ent.name not in ("amp", "lt", "gt", "quot", "apos"):
            raise HostileInputError(source, f"XML uses an undefined or external entity &{ent.name};")
    return root


def local(tag: object) -> str:
    """Tag name without namespace ('' for comments/PIs/entities)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
