"""Append-only, hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so an edited row breaks its
own hash and a deleted row breaks the chain; `AuditHead` remembers the last sequence number and hash
so that removing rows from the end is caught too. Database triggers refuse UPDATE and DELETE of entries,
and let the head move only forwards, one appended entry at a time.

Whoever owns the database can still drop the triggers and recompute the hashes, so each entry (from
`AuditHead.mac_from` on) and the head also carry an HMAC keyed by DERMATOX_AUDIT_KEY (audit/mac.py), a key
the database never sees; `dermatox audit anchor` copies the signed head out of the database
(docs/security/audit.md).
"""

import hashlib
import json

from django.db import models

from dermatox.audit.error_codes import AuditCode
from dermatox.common.errors import Conflict

GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, default="web")
    clinic_id = models.BigIntegerField(null=True, db_index=True)
    patient_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, blank=True)  # HMAC of `hash`; empty only before head.mac_from

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["patient_id", "-seq"], name="audit_patient_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise Conflict("Audit entries are append-only", code=AuditCode.AUDIT_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict("Audit entries are append-only", code=AuditCode.AUDIT_APPEND_ONLY)

    def canonical(self) -> bytes:
        payload = [
            self.seq,
            self.at.isoformat(timespec="microseconds"),
            self.actor_id,
            self.actor_username,
            self.role,
            self.channel,
            self.clinic_id,
            str(self.patient_id) if self.patient_id else None,
            self.action,
            self.object_type,
            self.object_id,
            self.ip,
            self.user_agent,
            self.detail,
            self.prev_hash,
        ]
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditHead(models.Model):
    """One row: the chain's last sequence number and hash. Locked while an entry is appended."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Entries written before the MAC key existed carry no MAC; every entry from this one on must.
    mac_from = models.BigIntegerField(default=1)
    mac = models.CharField(max_length=64, blank=True)  # HMAC of (seq, hash, mac_from)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
