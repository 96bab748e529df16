"""`dermatox audit verify|anchor`: the audit hash chain and its anchors outside the database."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


def cmd_audit_verify(args) -> int:
    from dermatox.audit.anchor import AnchorError, anchors_read
    from dermatox.audit.verify import audit_verify

    try:
        anchors = anchors_read(args.anchors) if args.anchors else None
    except AnchorError as exc:
        return _err(f"--anchors: {exc}")
    result = audit_verify(anchors=anchors)
    if result.ok:
        against = f", consistent with {result.anchors} anchor(s)" if args.anchors else ""
        print(f"OK: audit chain intact, {result.checked} entries verified{against}.")
        return 0
    print(f"TAMPERED: {result.problem} ({result.checked} entries verified before it).", file=sys.stderr)
    return 1


def cmd_audit_anchor(args) -> int:
    """Append the signed audit head to an append-only file or syslog (the worker does it on a schedule)."""
    from django.conf import settings

    from dermatox.audit.anchor import AnchorError, anchor_write

    to = args.to or settings.DERMATOX_AUDIT_ANCHOR_TO
    try:
        anchor = anchor_write(to)
    except AnchorError as exc:
        return _err(f"not anchored: {exc}", 1)
    except OSError as exc:
        return _err(f"--to: cannot append to {to}: {exc.strerror or exc}", 1)
    print(f"Anchored audit entry {anchor.seq} ({anchor.hash[:12]}…) to {to}.")
    return 0
