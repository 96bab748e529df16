"""Writes for clinics, users and memberships. Each is atomic and audited."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from dermatox.accounts.models import Chain, Clinic, Membership, User
from dermatox.accounts.roles import Role
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.text import clean_line, clean_model_text


@transaction.atomic
def clinic_create(
    *, actor: Actor, name: str, code: str, chain_name: str | None = None, address: str = ""
) -> Clinic:
    chain = Chain.objects.get_or_create(name=clean_line(chain_name))[0] if chain_name else None
    clinic = Clinic(name=name, code=code, chain=chain, address=address)
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
