"""The one way a request's JSON body is read, at every edge (REST, FHIR, bulk $export, CDS Hooks, the
injection map), bounded so that no body can turn into a server error:

- size: at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (the middleware answers 413 before this; here for bodies
  that did not come through it);
- depth: at most MAX_DEPTH levels of arrays and objects (the standard parser recursed until Python's
  stack gave out at about 1,000 levels: a 20,000-deep body was a RecursionError);
- text: valid UTF-8 with no lone surrogate and no NUL character (PostgreSQL cannot store NUL in text);
- numbers: finite, integers within I-JSON's exact range (RFC 7493), so no 40-digit id reaches a query.

Pure Python (the standard parser, which keeps integers exact: a REST schema then says which field is out
of range), no Django at import: CDS Hooks, which imports only clinical code, uses it too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_INTEGER = 2**53 - 1  # I-JSON: integers beyond it are not exact in most JSON readers
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone one (from a \\ud800 escape) cannot be stored as UTF-8


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
        document = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:  # the parser gave out (about 1,000 levels): say it as for 65
        raise JsonBodyError(f"nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise JsonBodyError(f"not valid JSON ({exc})") from None
    _check(document, max_depth, check_values)
    return document


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _where(trail: tuple | None) -> str:
    parts = []
    while trail is not None:  # (parent trail, key or index)
        trail, step = trail
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    steps = list(reversed(parts))
    return "body" + "".join(steps[:8]) + ("…" if len(steps) > 8 else "")  # a deep path, shortened


def _check(document: Any, max_depth: int, check_values: bool) -> None:
    """One pass over the document without recursion (a stack of (value, depth, trail)). Depth, Unicode
    and finiteness always; NUL characters and integer ranges when `check_values`."""
    stack: list[tuple[Any, int, tuple | None]] = [(document, 1, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise JsonBodyError(f"nested deeper than {max_depth} levels", _where(trail))
            for key, item in value.items():
                _check_text(key, trail, check_values, "names")
                stack.append((item, depth + 1, (trail, key)))
        elif isinstance(value, list):
            if depth > max_depth:
                raise JsonBodyError(f"nested deeper than {max_depth} levels", _where(trail))
            stack.extend((item, depth + 1, (trail, i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, trail, check_values, "text")
        elif isinstance(value, float):
            if not math.isfinite(value):  # 1e999 reads as infinity
                raise JsonBodyError("numbers must be finite", _where(trail))
        elif check_values and isinstance(value, int) and not isinstance(value, bool):
            _check_integer(value, trail)


def _check_text(text: str, trail: tuple | None, check_values: bool, what: str) -> None:
    if _SURROGATE.search(text):
        raise JsonBodyError(f"{what} must be valid Unicode (a lone surrogate)", _where(trail))
    if check_values and "\x00" in text:
        raise JsonBodyError(f"{what} must not contain NUL characters", _where(trail))


def _check_integer(value: int, trail: tuple | None) -> None:
    if abs(value) > MAX_INTEGER:
        raise JsonBodyError(f"integers must be between -{MAX_INTEGER} and {MAX_INTEGER}", _where(trail))
