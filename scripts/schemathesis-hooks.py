"""Authentication for scripts/schemathesis: the admin key for `admin_key` operations and a
signed-up user's access token for `bearer` operations.

The fuzzer itself logs that user out, deletes it, bans it and ends its sessions (admin
operations find its id in the user list), so a fixed token would leave every `bearer` operation
answering 401 after the first seconds. The token is checked (GET /v1/me) whenever the cached one
was refused, and replaced: log in again, unban and log in, or else create a new verified user
with the admin key and log in as that one.
"""

import os
import random
import uuid

import requests
import schemathesis

BASE_URL = os.environ["AUTHSTACK_URL"]
ADMIN_KEY = os.environ["AUTHSTACK_ADMIN_KEY"]
PASSWORD = os.environ["AUTHSTACK_USER_PASSWORD"]
TIMEOUT = 10
# The fuzzer's failed logins and sign-ups from 127.0.0.1 soon hit the per-IP rate limits; this
# provider's own requests come "from" another address (the instance trusts X-Forwarded-For).
CLIENT = {"X-Forwarded-For": "192.0.2.1"}
# Its logins each from an address of their own (198.18.0.0/15, for tests): a run of refused
# logins while it repairs the user must not lock the next one out by the per-IP limit.
_ADDRESSES = random.Random(1)


def _login_client():
    return {"X-Forwarded-For": f"198.18.{_ADDRESSES.randrange(256)}.{_ADDRESSES.randrange(1, 255)}"}


class _User:
    email = os.environ["AUTHSTACK_USER_EMAIL"]
    token = os.environ["AUTHSTACK_USER_TOKEN"]


def _admin(method, path, **kwargs):
    return requests.request(
        method,
        BASE_URL + path,
        headers={"Authorization": f"Bearer {ADMIN_KEY}", **CLIENT},
        timeout=TIMEOUT,
        **kwargs,
    )


def _login():
    """The access token, or None and why (the answer's status and error code)."""
    response = requests.post(
        BASE_URL + "/v1/auth/login",
        json={"email": _User.email, "password": PASSWORD},
        headers=_login_client(),
        timeout=TIMEOUT,
    )
    if response.status_code == 200:
        return response.json().get("access_token"), None
    try:
        code = response.json().get("error")
    except ValueError:
        code = None
    return None, f"{response.status_code} {code}"


def _unban_user():
    """Unbans the user if it still exists."""
    found = _admin("GET", "/v1/admin/users", params={"search": _User.email})
    users = found.json().get("data", []) if found.status_code == 200 else []
    for user in users:
        if user["email"] == _User.email:
            _admin("POST", f"/v1/admin/users/{user['id']}/unban")


def _new_user():
    """Replaces the user with a new verified one: the fuzzer may have deleted the old one, or
    changed its password, address or verification through the admin API (and the failed logins
    that followed lock it out for a while)."""
    _User.email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    created = _admin(
        "POST",
        "/v1/admin/users",
        json={"email": _User.email, "password": PASSWORD, "email_verified": True},
    )
    created.raise_for_status()


def _user_token():
    me = requests.get(
        BASE_URL + "/v1/me",
        headers={"Authorization": f"Bearer {_User.token}", **CLIENT},
        timeout=TIMEOUT,
    )
    if me.status_code == 200:
        return _User.token
    token, why = _login()
    if token is None:
        _unban_user()
        token, why = _login()
    if token is None:
        _new_user()
        token, why = _login()
    if token is None:
        raise RuntimeError(f"cannot log in as {_User.email}: {why}")
    _User.token = token
    return token


def _scheme(ctx):
    for requirement in ctx.operation.definition.raw.get("security", []):
        for name in requirement:
            return name
    return None


# Refetched when a response is 401 (token ended) or 403 (user banned): the check above makes a
# refetch with a still-valid token cost one GET /v1/me, no password hash.
@schemathesis.auth(refresh_interval=300, cache_by_key=lambda case, ctx: _scheme(ctx) or "", retry_on=[401, 403])
class AuthStack:
    def get(self, case, ctx):
        scheme = _scheme(ctx)
        if scheme == "admin_key":
            return ADMIN_KEY
        if scheme == "bearer":
            return _user_token()
        return None

    def set(self, case, data, ctx):
        if data is not None:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def map_body(ctx, body):
    """An organization webhook's `url` that would be delivered to names a host under `.invalid`
    (RFC 2606: it never resolves), so the instance's deliveries of the fuzzer's endpoints leave
    nothing but a failed lookup. URLs the instance refuses anyway (other schemes, garbage) stay."""
    op = ctx.operation
    if op.method.upper() == "POST" and op.path == "/v1/organizations/{id}/webhooks" and isinstance(body, dict):
        url = body.get("url")
        if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
            body["url"] = "https://schemathesis.invalid/hook"
    return body
