"""Authentication events are audited here because Django raises them, not our services."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from dermatox.audit.services import audit_record
from dermatox.common.context import Actor


def _actor(request, user) -> Actor:
    from dermatox.common.http import client_ip

    ip = client_ip(request) if request is not None else None
    ua = request.META.get("HTTP_USER_AGENT", "")[:200] if request is not None else ""
    return Actor(user=user, clinic=None, ip=ip, user_agent=ua)


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(actor=_actor(request, user), action="auth.login", obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=_actor(request, user), action="auth.logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=_actor(request, None), action="auth.login_failed", detail={"username": username})
