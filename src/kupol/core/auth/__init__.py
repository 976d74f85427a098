"""Users, roles, passwords, login tokens and the login rate limit."""

from kupol.core.auth.model import Role, User
from kupol.core.auth.permissions import Permission, allowed_roles, has_permission
from kupol.core.auth.service import AuthService, Principal

__all__ = [
    "AuthService",
    "Permission",
    "Principal",
    "Role",
    "User",
    "allowed_roles",
    "has_permission",
]
