"""User admin (`/api/users/**`, superadmin only) and `POST /api/me/password`."""

from __future__ import annotations

import re
import secrets
from typing import Any

from .common import body_obj
from .errors import Reply, bad_request, conflict, internal, invalid_body, not_found
from .jsutil import iso, new_id, now, pg_uuid
from .routing import Ctx, Routes

routes = Routes()
_C = "UsersController"
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
MIN_PASSWORD = 8


def _view(user: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "email", "name", "image", "role", "mustChangePassword", "hasPassword")
    return {
        **{k: user[k] for k in keys},
        "createdAt": iso(user["createdAt"]),
        "updatedAt": iso(user["updatedAt"]),
    }


def _text(value: Any) -> str | None:
    """`value?.trim()`: undefined/null pass, a non-string is a TypeError (400)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_body()
    return value.strip()


def _role(value: Any) -> str:
    if value in ("superadmin", "user"):
        return str(value)
    raise bad_request("Invalid role: expected 'superadmin' or 'user'")


def _user(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.p("id")
    key = pg_uuid(raw)
    if key is None:
        raise internal()  # invalid input syntax for type uuid
    user = ctx.store.users.get(key)
    if user is None:
        raise not_found(f"User {raw} not found")
    return user


@routes.add("GET", "/api/users", f"{_C}.list", role="superadmin")
async def list_users(ctx: Ctx) -> Reply:
    users = sorted(ctx.store.users.values(), key=lambda u: u["createdAt"])
    return Reply({"users": [_view(u) for u in users]})


@routes.add("GET", "/api/users/:id", f"{_C}.getOne", role="superadmin")
async def get_user(ctx: Ctx) -> Reply:
    return Reply({"user": _view(_user(ctx))})


@routes.add("POST", "/api/users", f"{_C}.create", role="superadmin")
async def create_user(ctx: Ctx) -> Reply:
    body = body_obj(ctx)
    email = (_text(body.get("email")) or "").lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise bad_request("Invalid email")
    role = _role(body.get("role", "user") if body.get("role") is not None else "user")
    generated = _checked_password(body)
    name = _text(body.get("name")) or None
    if any(u["email"] == email for u in ctx.store.users.values()):
        raise conflict(f"A user with email {email} already exists")
    at = now()
    user: dict[str, Any] = {
        "id": new_id(),
        "email": email,
        "name": name,
        "image": None,
        "role": role,
        "mustChangePassword": True,
        "hasPassword": True,
        "createdAt": at,
        "updatedAt": at,
    }
    ctx.store.users[user["id"]] = user
    out: dict[str, Any] = {"user": _view(user)}
    if generated:
        out["generatedPassword"] = generated
    return Reply(out, status=201)


def _checked_password(body: dict[str, Any]) -> str | None:
    """Check the given password; the generated one when none was given."""
    password = _text(body.get("password"))
    generated = None
    if not password:
        generated = password = secrets.token_hex(9)
    if len(password) < MIN_PASSWORD:
        raise bad_request(f"Password must be at least {MIN_PASSWORD} characters")
    return generated


@routes.add("PATCH", "/api/users/:id", f"{_C}.update", role="superadmin")
async def update_user(ctx: Ctx) -> Reply:
    user = _user(ctx)
    body = body_obj(ctx)
    role = _role(body["role"]) if body.get("role", None) is not None else None
    if role and user["role"] == "superadmin" and role != "superadmin" and _admins(ctx) <= 1:
        raise conflict("Cannot remove the last superadmin: promote another user first.")
    if "name" in body:
        user["name"] = body["name"]
    user["role"] = role or user["role"]
    user["updatedAt"] = now()
    return Reply({"user": _view(user)})


@routes.add("DELETE", "/api/users/:id", f"{_C}.remove", role="superadmin")
async def delete_user(ctx: Ctx) -> Reply:
    user = _user(ctx)
    if user["role"] == "superadmin" and _admins(ctx) <= 1:
        raise conflict("Cannot delete the last superadmin")
    del ctx.store.users[user["id"]]
    return Reply({"deleted": True})


def _admins(ctx: Ctx) -> int:
    return sum(1 for u in ctx.store.users.values() if u["role"] == "superadmin")


@routes.add("POST", "/api/me/password", "MeController.changePassword")
async def change_password(ctx: Ctx) -> Reply:
    body_obj(ctx)
    # changeOwnPassword looks up the caller's row first; sandbox sessions have none.
    raise not_found("User not found")
