"""Writes for clinics, users and memberships. Each is atomic and audited."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dermatox.accounts.models import Chain, Clinic, Membership, User
from dermatox.accounts.roles import Role
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.text import clean_line, clean_model_text


@transaction.atomic
def clinic_create(
    *,
    actor: Actor,
    name: str,
    code: str,
    chain_name: str | None = None,
    address: str = "",
    phone: str = "",
) -> Clinic:
    """A clinic (its code prefixes its record numbers, e.g. NIS-000001), in a chain when named."""
    chain = Chain.objects.get_or_create(name=clean_line(chain_name))[0] if chain_name else None
    clinic = Clinic(name=name, code=code, chain=chain, address=address, phone=phone)
    clean_model_text(clinic)
    try:
        clinic.full_clean()
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc) from exc
    clinic.save()
    audit_record(actor=actor, action="clinic.create", obj=clinic, detail={"code": code})
    return clinic


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    language: str = "en",
    memberships: list[tuple[Clinic, str]] = (),
) -> User:
    user = User(username=username, full_name=full_name, email=email, language=language)
    clean_model_text(user)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(InvalidInput.from_validation_error(exc).fields)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    for _clinic, role in memberships:
        if role not in Role.values:
            errors["role"] = [f"must be one of {', '.join(Role.values)}"]
    if errors:
        raise InvalidInput.from_fields(errors)
    user.set_password(password)
    user.save()
    for clinic, role in memberships:
        Membership.objects.create(user=user, clinic=clinic, role=role)
    audit_record(
        actor=actor,
        action="user.create",
        obj=user,
        detail={"username": username, "roles": {c.code: r for c, r in memberships}},
    )
    return user


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    """The language the user works in (pages, messages). Printed documents follow the patient's."""
    choices = dict(User._meta.get_field("language").choices)
    if language not in choices:
        raise InvalidInput("language: unknown", fields={"language": [f"must be one of {', '.join(choices)}"]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def sessions_end(user: User) -> None:
    """End every session of the user (the epoch is part of the session hash). Callers audit why."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def user_sign_out_everywhere(*, actor: Actor, user: User) -> None:
    """Every session of the user ends (a lost laptop, a shared computer). The web view then renews the
    current session's hash, so only the other sessions end."""
    sessions_end(user)
    audit_record(actor=actor, action="auth.signed_out_everywhere", obj=user)


@transaction.atomic
def password_change(
    *, actor: Actor, user: User, old_password: str, new_password1: str, new_password2: str
) -> User:
    """The user's own change: the current password, then the new one twice, checked by the password
    validators. Other sessions end (Django ties them to the password hash); clears must_change_password."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(old_password or ""):
        errors["old_password"] = [_("is not your current password")]
    if not new_password1:
        errors["new_password1"] = [_("is required")]
    elif new_password1 != new_password2:
        errors["new_password2"] = [_("does not match the new password")]
    elif new_password1 == old_password:
        errors["new_password1"] = [_("must differ from the current password")]
    else:
        try:
            validate_password(new_password1, user)
        except ValidationError as exc:
            errors["new_password1"] = list(exc.messages)
    if errors:
        raise InvalidInput.from_fields(errors)
    user.set_password(new_password1)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(actor=actor, action="auth.password_changed", obj=user)
    return user
