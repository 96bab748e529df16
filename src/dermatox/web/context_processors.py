from dermatox.accounts.roles import ROLE_PERMISSIONS, Role


def clinic(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {
        "actor": actor,
        "perms_": ROLE_PERMISSIONS.get(actor.role or "", frozenset()),
        "role_label": Role(actor.role).label if actor.role in Role.values else "",
    }
