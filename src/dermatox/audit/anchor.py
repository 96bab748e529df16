"""Anchors: the signed audit head, copied out of the database.

`dermatox audit anchor` (and the worker, every DERMATOX_AUDIT_ANCHOR_MINUTES) appends one JSON line
{"at", "seq", "hash", "mac"} to an append-only file or to syslog. Whoever later rewrites the database
cannot rewrite these lines, so `audit verify --anchors FILE` catches any change before the last anchor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import syslog
from dataclasses import dataclass
from pathlib import Path

from dermatox.audit import mac
from dermatox.audit.models import GENESIS_HASH, AuditEntry, AuditHead

SYSLOG = "syslog"


class AnchorError(Exception):
    """The head cannot be anchored, or an anchors file cannot be read."""


@dataclass(frozen=True)
class Anchor:
    at: str
    seq: int
    hash: str
    mac: str
    line: int = 0  # where it was read from (1-based), for messages

    def to_json(self) -> str:
        return json.dumps(
            {"at": self.at, "seq": self.seq, "hash": self.hash, "mac": self.mac}, separators=(",", ":")
        )

    def signed(self) -> bool:
        return mac.same(self.mac, mac.anchor_mac(self.at, self.seq, self.hash))


def anchor_current(*, using: str = "default") -> Anchor:
    """The head as it is now, signed. Refuses a head whose own MAC or entry does not check (anchoring it
    would vouch for a rewrite)."""
    head = AuditHead.objects.using(using).filter(pk=1).first()
    if head is None:
        raise AnchorError("the audit head row is missing: run `dermatox audit verify`")
    if not mac.same(head.mac, mac.head_mac(head.seq, head.hash, head.mac_from)):
        raise AnchorError(f"the audit head (entry {head.seq}) fails its MAC: run `dermatox audit verify`")
    if head.seq:
        last = AuditEntry.objects.using(using).filter(seq=head.seq).first()
        if last is None or last.hash != head.hash:
            raise AnchorError(f"entry {head.seq} does not match the audit head: run `dermatox audit verify`")
    elif head.hash != GENESIS_HASH:
        raise AnchorError("the empty audit head has a hash: run `dermatox audit verify`")
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Anchor(at=at, seq=head.seq, hash=head.hash, mac=mac.anchor_mac(at, head.seq, head.hash))


def anchor_write(to: str | Path, *, using: str = "default") -> Anchor:
    """Append the signed head to `to` (a file, opened O_APPEND so earlier lines are never rewritten by us)
    or, if `to` is "syslog", send it to the system log (facility AUTH)."""
    anchor = anchor_current(using=using)
    line = anchor.to_json()
    if str(to) == SYSLOG:
        syslog.openlog("dermatox", syslog.LOG_PID, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, f"audit-anchor {line}")
        return anchor
    path = Path(to)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())  # one write: a line is never interleaved with another
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


def anchors_read(path: str | Path) -> list[Anchor]:
    """Every anchor in a file. Lines may carry a syslog prefix (the JSON starts at the first "{");
    lines without JSON are skipped; a line that starts JSON but is not an anchor is an error."""
    anchors = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AnchorError(f"{path}: {exc.strerror or exc}") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        start = raw.find("{")
        if start < 0:
            continue
        try:
            data = json.loads(raw[start:])
            anchors.append(
                Anchor(
                    at=str(data["at"]),
                    seq=int(data["seq"]),
                    hash=str(data["hash"]),
                    mac=str(data["mac"]),
                    line=number,
                )
            )
        except (ValueError, KeyError, TypeError):
            raise AnchorError(f"{path}, line {number}: not an audit anchor") from None
    return anchors
