from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Model

from dermatox.audit.actions import check_registered
from dermatox.audit.mac import entry_mac, head_mac
from dermatox.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from dermatox.common.context import Actor

HEAD_ID = 1


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Model | None = None,
    patient_id: uuid.UUID | str | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain.

    The head row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions
    already serialise writers), so concurrent writers never fork the chain. The entry and the moved head
    are MACed with DERMATOX_AUDIT_KEY; the head's triggers accept only this one-step move.
    """
    check_registered(action)
    if patient_id is None and obj is not None:
        patient_id = _patient_of(obj)
    user = actor.acting_user
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=HEAD_ID).first()
        if head is None:  # the migration creates it; this covers a database emptied by hand
            try:
                with transaction.atomic():
                    AuditHead.objects.create(
                        pk=HEAD_ID, seq=0, hash=GENESIS_HASH, mac_from=1, mac=head_mac(0, GENESIS_HASH, 1)
                    )
            except IntegrityError:
                pass  # another writer created it first
            head = AuditHead.objects.select_for_update().get(pk=HEAD_ID)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=dt.datetime.now(dt.UTC),
            actor_id=user.pk if user else None,
            actor_username=user.get_username() if user else "",
            role=actor.role or "",
            channel=actor.channel,
            clinic_id=actor.clinic.pk if actor.clinic is not None else None,
            patient_id=uuid.UUID(str(patient_id)) if patient_id else None,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            ip=actor.ip or "",
            user_agent=(actor.user_agent or "")[:200],
            detail=detail or {},
            prev_hash=head.hash,
        )
        entry.hash = entry.compute_hash()
        entry.mac = entry_mac(entry.hash)
        entry.save(force_insert=True)
        AuditHead.objects.filter(pk=HEAD_ID).update(
            seq=entry.seq, hash=entry.hash, mac=head_mac(entry.seq, entry.hash, head.mac_from)
        )
    return entry


def _patient_of(obj: Model):
    if getattr(obj._meta, "label_lower", "") == "patients.patient":
        return obj.pk
    if hasattr(obj, "patient_id"):
        return obj.patient_id
    session = getattr(obj, "session", None)  # injection points belong to a patient through their session
    return getattr(session, "patient_id", None)
