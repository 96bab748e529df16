"""The role table, as accounts has always offered it: it lives in `common.roles`, at the bottom of the graph,
because the `Actor` (common.context) asks it what a role may do and common imports no app."""

from dermatox.common.roles import ROLE_PERMISSIONS, Perm, Role, role_has

__all__ = ["ROLE_PERMISSIONS", "Perm", "Role", "role_has"]
