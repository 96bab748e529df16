"""Keyed MACs (HMAC-SHA256) over the audit chain, the head row and the anchors.

The hash chain alone proves nothing against someone who can write the database: they can edit a row and
recompute every hash after it. The MACs need DERMATOX_AUDIT_KEY, which lives in the environment of the
application (never in the database), so a chain recomputed without the key no longer checks.
Each MAC has its own label, so an entry's MAC can never be passed off as a head's or an anchor's.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def audit_key() -> bytes:
    key = getattr(settings, "DERMATOX_AUDIT_KEY", "")
    if not key:
        raise ImproperlyConfigured("DERMATOX_AUDIT_KEY must be set (the audit chain's MAC key)")
    return key.encode()


def _mac(label: str, payload: str) -> str:
    return hmac.new(audit_key(), f"{label}\x00{payload}".encode(), hashlib.sha256).hexdigest()


def entry_mac(entry_hash: str) -> str:
    """The entry's hash already covers all its fields and the previous hash: MAC that."""
    return _mac("dermatox-audit-entry", entry_hash)


def head_mac(seq: int, head_hash: str, mac_from: int) -> str:
    return _mac("dermatox-audit-head", f"{seq}:{head_hash}:{mac_from}")


def anchor_mac(at: str, seq: int, head_hash: str) -> str:
    return _mac("dermatox-audit-anchor", json.dumps([at, seq, head_hash], separators=(",", ":")))


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a or "", b or "")
