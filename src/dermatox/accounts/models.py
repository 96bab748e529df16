from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from dermatox.accounts.roles import Role


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=[("en", "English"), ("tr", "Türkçe")], default="en"
    )
    # Set when an administrator resets the password: the next sign-in must choose a new one first.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # Bumped to end every session of the user at once ("sign out everywhere", a reset, a deactivation):
    # it is part of the session hash Django checks on every request (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_session_auth_hash(self) -> str:
        return self._session_hash()

    def get_session_auth_fallback_hash(self):
        from django.conf import settings

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, secret: str | None = None) -> str:
        # Epoch 0 gives Django's own hash, so sessions opened before this field existed stay valid.
        material = self.password if not self.session_epoch else f"{self.password}\x00{self.session_epoch}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            material,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Chain(models.Model):
    """A group of clinics under one owner. Patients still belong to exactly one clinic."""

    name = models.CharField(_("name"), max_length=150, unique=True)

    def __str__(self) -> str:
        return self.name


class Clinic(models.Model):
    chain = models.ForeignKey(Chain, null=True, blank=True, on_delete=models.PROTECT, related_name="clinics")
    name = models.CharField(_("name"), max_length=150)
    code = models.SlugField(
        _("code"), max_length=20, unique=True, help_text=_("Short code used in record numbers")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Istanbul")
    next_patient_number = models.PositiveIntegerField(default=1, editable=False)
    # Clinical and administrative staff must sign in with a second factor (docs/security/second-factor.md).
    require_second_factor = models.BooleanField(_("second factor required"), default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one clinic. A user may work in several clinics, with a role in each."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="one_role_per_clinic")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"


class ApiToken(models.Model):
    """A credential another system (EHR, lab, billing) uses for the REST, FHIR and bulk APIs.

    It belongs to one clinic and acts as one of its staff members with one role (so the role table decides
    what it may read and write), narrowed further by scopes: read, write, export. Only a hash is stored;
    the secret is shown once when the token is made."""

    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")
        EXPORT = "export", _("export")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(default=list)
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Rotation links the old token to the one that replaced it (the old one stops at once or at its grace
    # period's end, which is then its expires_at).
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces", editable=False
    )

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        EXPIRED = "expired", _("expired")
        REVOKED = "revoked", _("revoked")
        ROLE_NOT_HELD = "role_not_held", _("role no longer held")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.clinic.code})"

    def status_at(self, now) -> str:
        """Revoked, expired or active at `now` (whether its user still holds the role is checked apart)."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return self.Status.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE
