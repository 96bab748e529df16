"""The one way a request's JSON body is read, at every edge (REST, FHIR, bulk $export, CDS Hooks, the
injection map), bounded so that no body can turn into a server error:

- size: at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (the middleware answers 413 before this; here for bodies
  that did not come through it);
- depth: at most MAX_DEPTH levels of arrays and objects (the standard parser recursed until Python's
  stack gave out at about 1,000 levels: a 20,000-deep body was a RecursionError);
- text: valid UTF-8 with no lone surrogate and no NUL character (PostgreSQL cannot store NUL in text);
- numbers: finite, integers within I-JSON's exact range (RFC 7493), so no 40-digit id reaches a query.

Pure Python (orjson), no Django at import: CDS Hooks, which imports only clinical code, uses it too.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64
MAX_INTEGER = 2**53 - 1  # I-JSON: integers beyond it are not exact in most JSON readers


class JsonBodyError(ValueError):
    """What is wrong with the body, and where (`body`, `body.name[0].given`); each edge maps it to its own
    400 (a REST error, an OperationOutcome, a CDS error), or 413 when `too_large`."""

    def __init__(self, message: str, path: str = "body", *, too_large: bool = False):
        super().__init__(f"{path}: {message}")
        self.message, self.path, self.too_large = message, path, too_large


def _max_bytes() -> int:
    from django.conf import settings  # read when called: the limit is a deployment setting

    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def parse_json(
    raw: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None, check_values: bool = True
) -> Any:
    """The parsed document, or JsonBodyError naming the first problem and where it is. `check_values=False`
    leaves NUL characters and integer ranges to a schema that names each field itself (the REST API's)."""
    limit = max_bytes if max_bytes is not None else _max_bytes()
    if len(raw) > limit:
        raise JsonBodyError(f"larger than {limit} bytes", too_large=True)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson stops at 1,024 levels by itself; say it the same way as for 65.
        if "depth" in str(exc) or "recursion" in str(exc):
            raise JsonBodyError(f"nested deeper than {max_depth} levels") from None
        raise JsonBodyError(f"not valid JSON ({exc})") from None
    _check(document, max_depth, check_values)
    return document


def _where(trail: tuple | None) -> str:
    parts = []
    while trail is not None:  # (parent trail, key or index)
        trail, step = trail
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return "body" + "".join(reversed(parts))


def _check(document: Any, max_depth: int, check_values: bool) -> None:
    """One pass over the document without recursion (a stack of (value, depth, trail))."""
    stack: list[tuple[Any, int, tuple | None]] = [(document, 1, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise JsonBodyError(f"nested deeper than {max_depth} levels", _where(trail))
            if isinstance(value, dict):
                for key, item in value.items():
                    if check_values and "\x00" in key:
                        raise JsonBodyError("names must not contain NUL characters", _where(trail))
                    stack.append((item, depth + 1, (trail, key)))
            else:
                stack.extend((item, depth + 1, (trail, i)) for i, item in enumerate(value))
        elif not check_values:
            continue
        elif isinstance(value, str):
            if "\x00" in value:
                raise JsonBodyError("text must not contain NUL characters", _where(trail))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                raise JsonBodyError(
                    f"integers must be between -{MAX_INTEGER} and {MAX_INTEGER}", _where(trail)
                )
        elif isinstance(value, float) and abs(value) > MAX_INTEGER and value == int(value):
            # orjson reads an integer beyond 64 bits as a float: still a too-large integer to us.
            raise JsonBodyError(f"integers must be between -{MAX_INTEGER} and {MAX_INTEGER}", _where(trail))
