"""Helpers every service uses to validate, version and audit one write."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone

from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import CommonCode, InvalidInput, NotFound, PermissionDenied
from dermatox.common.records import ClinicalRecord
from dermatox.common.text import clean_line, clean_model_text


def require(actor: Actor, perm: str) -> None:
    if not actor.can(perm):
        raise PermissionDenied(f"Your role may not do this ({perm})", code=CommonCode.PERMISSION_DENIED)


def require_same_clinic(actor: Actor, clinic_id: int) -> None:
    """A record of another clinic does not exist for this actor."""
    if actor.role != "system" and (actor.clinic is None or actor.clinic.pk != clinic_id):
        raise NotFound("No such record", code=CommonCode.NOT_FOUND)


def validate(instance: Model, *, exclude: list[str] | None = None) -> None:
    """Clean the instance's text (control characters out, `common.text`), then check it by the model's rules."""
    clean_model_text(instance)
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc) from exc


def save_audited(actor: Actor, instance: Model, *, action: str, detail: dict | None = None) -> Model:
    """Validate, save as a new version attributed to the actor, and audit."""
    validate(instance)
    instance._history_user = actor.acting_user
    instance.save()
    audit_record(actor=actor, action=action, obj=instance, detail=detail)
    return instance


# Models whose withdrawal takes more than marking the one record (a signed toxin session withdraws its
# administrations with it): the app owning the model registers its handler in AppConfig.ready, so the one
# correction path (`record_mark_entered_in_error`) reaches it without importing that app.
_WITHDRAWAL_HANDLERS: dict[type, object] = {}


def register_withdrawal(model: type, handler) -> None:
    """`handler(actor, record, reason)` marks `record` entered in error with everything it carries."""
    _WITHDRAWAL_HANDLERS[model] = handler


def withdraw(actor: Actor, record: ClinicalRecord, *, reason: str) -> ClinicalRecord:
    """Mark a record entered in error through its model's handler, or on its own."""
    handler = _WITHDRAWAL_HANDLERS.get(type(record))
    if handler is not None:
        return handler(actor, record, reason)
    return mark_entered_in_error(actor, record, reason=reason)


def mark_entered_in_error(actor: Actor, record: ClinicalRecord, *, reason: str) -> ClinicalRecord:
    reason = clean_line(reason or "").strip()  # control characters out first: "\x01" is no reason
    if not reason:
        raise InvalidInput("reason: required", fields={"reason": ["Say why this record is wrong."]})
    if len(reason) > 500:
        raise InvalidInput("reason: too long", fields={"reason": ["At most 500 characters."]})
    if record.is_entered_in_error:
        return record
    record.entered_in_error_at = timezone.now()
    record.entered_in_error_by = actor.acting_user
    record.entered_in_error_reason = reason
    label = record._meta.model_name
    # The reason may be clinical text: it lives on the record (and its history), not in the audit trail.
    return save_audited(actor, record, action=audit_action("{0}.entered_in_error", label))
