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
