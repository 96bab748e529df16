from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from dermatox.accounts.roles import Role


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=[("en", "English"), ("tr", "Türkçe")], default="en"
    )

    def __str__(self) -> str:
        return self.full_name or self.username


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
