"""Walk the chain and report the first entry that does not add up."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from dermatox.audit import protection
from dermatox.audit.models import GENESIS_HASH, AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


def audit_verify(*, chunk_size: int = 2000) -> VerifyResult:
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if entry.seq != expected_seq:
            return VerifyResult(
                False, checked, f"entry {expected_seq} is missing (next is {entry.seq})", expected_seq
            )
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False, checked, f"entry {entry.seq} does not follow entry {entry.seq - 1}", entry.seq
            )
        if entry.compute_hash() != entry.hash:
            return VerifyResult(False, checked, f"entry {entry.seq} was altered (hash mismatch)", entry.seq)
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != prev_hash:
        return VerifyResult(
            False, checked, f"the chain ends at entry {checked} but {head_seq} were written", checked + 1
        )
    gone = protection.missing(connection)
    if gone:
        return VerifyResult(
            False, checked, f"the append-only protection is missing (triggers: {', '.join(gone)})"
        )
    return VerifyResult(True, checked)
