"""Walk the chain and report the first entry that does not add up.

Checks, in order: the anchors file is signed with our key; every entry follows the one before, hashes
to its stored hash and (from the head's `mac_from` on) carries a valid MAC; every anchor's entry still
exists with the anchored hash; the head row matches the last entry and its own MAC; the triggers are in
place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections

from dermatox.audit import mac, protection
from dermatox.audit.anchor import Anchor
from dermatox.audit.models import GENESIS_HASH, AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None
    anchors: int = 0  # how many anchors were checked


def audit_verify(
    *, anchors: Iterable[Anchor] | None = None, using: str = "default", chunk_size: int = 2000
) -> VerifyResult:
    anchors = sorted(anchors or [], key=lambda a: (a.seq, a.line))
    for anchor in anchors:
        if not anchor.signed():
            return VerifyResult(
                False, 0, f"anchor on line {anchor.line} is not signed with this key (forged or edited)"
            )
    anchored = {a.seq for a in anchors}
    head = AuditHead.objects.using(using).filter(pk=1).first()
    mac_from = head.mac_from if head else 1

    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    hashes = {0: GENESIS_HASH}  # of the anchored entries only
    for entry in AuditEntry.objects.using(using).order_by("seq").iterator(chunk_size=chunk_size):
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
        if entry.seq >= mac_from and not mac.same(entry.mac, mac.entry_mac(entry.hash)):
            return VerifyResult(
                False,
                checked,
                f"entry {entry.seq} fails its MAC (rewritten or forged without the audit key)",
                entry.seq,
            )
        if entry.seq in anchored:
            hashes[entry.seq] = entry.hash
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1

    last_good = 0
    for anchor in anchors:
        if anchor.seq > checked:
            return VerifyResult(
                False,
                checked,
                f"entry {anchor.seq} was anchored at {anchor.at} but the chain ends at entry {checked}: "
                f"entries {checked + 1} to {anchor.seq} were removed",
                checked + 1,
                len(anchors),
            )
        if hashes.get(anchor.seq) != anchor.hash:
            return VerifyResult(
                False,
                checked,
                f"entry {anchor.seq} differs from its anchor of {anchor.at}: the chain was rewritten "
                f"between entries {last_good + 1} and {anchor.seq}",
                anchor.seq,
                len(anchors),
            )
        last_good = anchor.seq

    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != prev_hash:
        return VerifyResult(
            False, checked, f"the chain ends at entry {checked} but {head_seq} were written", checked + 1
        )
    if head is None:
        return VerifyResult(False, checked, "the audit head row is missing (deleted by hand)", 1)
    if not mac.same(head.mac, mac.head_mac(head.seq, head.hash, head.mac_from)):
        return VerifyResult(
            False,
            checked,
            f"the audit head (entry {head_seq}) fails its MAC: the head row was rewritten without the key",
            head_seq,
        )

    gone = protection.missing(connections[using])
    if gone:
        return VerifyResult(
            False,
            checked,
            f"the append-only protection is missing (triggers: {', '.join(gone)})",
            anchors=len(anchors),
        )
    return VerifyResult(True, checked, anchors=len(anchors))
