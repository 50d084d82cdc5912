"""Open311 answers in the two formats of the specification. XML element names follow the
specification's examples: <services><service>, <service_definition><attributes><attribute>
<values><value>, <service_requests><request>, <errors><error>."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from fastapi.responses import JSONResponse, Response

XML_TYPE = "text/xml; charset=utf-8"
ITEM_NAMES = {"attributes": "attribute", "values": "value"}


def _element(parent: ElementTree.Element, name: str, value: Any) -> None:
    child = ElementTree.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif isinstance(value, list):
        item_name = ITEM_NAMES.get(name, name.rstrip("s"))
        for item in value:
            if isinstance(item, dict):
                entry = ElementTree.SubElement(child, item_name)
                for key, inner in item.items():
                    _element(entry, key, inner)
            else:
                _element(child, item_name, item)
    else:
        child.text = str(value)


def xml_document(root: str, item: str | None, data: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    top = ElementTree.Element(root)
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        target = ElementTree.SubElement(top, item) if item else top
        for key, value in row.items():
            _element(target, key, value)
    return ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)


def answer(
    fmt: str,
    data: list[dict[str, Any]] | dict[str, Any],
    *,
    root: str,
    item: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    if fmt == "xml":
        return Response(
            xml_document(root, item, data), status_code=status, media_type=XML_TYPE, headers=headers
        )
    return JSONResponse(data, status_code=status, headers=headers)


def errors(
    fmt: str, status: int, description: str, headers: dict[str, str] | None = None
) -> Response:
    return answer(
        fmt,
        [{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
        headers=headers,
    )
