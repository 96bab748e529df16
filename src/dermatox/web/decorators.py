from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


def clinic_required(view):
    """Logged in, with a clinic chosen (the clinic is what scopes every patient read)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.actor is None or request.actor.clinic is None:
            return redirect("clinic-choose")
        return view(request, *args, **kwargs)

    return wrapper


def require_perm(request, perm: str) -> None:
    """Refuse the page itself (not only the save) when the role may not do this."""
    from django.utils.translation import gettext_lazy as _

    from dermatox.common.errors import PermissionDenied

    if not request.actor.can(perm):
        raise PermissionDenied(_("Your role may not do this."))
