"""Who is acting, for which clinic, from where: passed explicitly into every service and selector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dermatox.accounts.models import Clinic, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    clinic: Clinic | None
    role: str | None = None
    ip: str | None = None
    user_agent: str = ""
    channel: str = "web"  # web | cli | system
    token_id: int | None = None  # the API token the request came with (channel "api")

    @classmethod
    def system(cls, *, clinic: Clinic | None = None, channel: str = "cli") -> Actor:
        return cls(user=None, clinic=clinic, role="system", channel=channel)

    @property
    def acting_user(self) -> User | None:
        """The user to record as author (None for the system or an unsaved user)."""
        return self.user if self.user is not None and self.user.pk else None

    def can(self, perm: str) -> bool:
        from dermatox.common.roles import role_has

        return self.role == "system" or role_has(self.role, perm)
