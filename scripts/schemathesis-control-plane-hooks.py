"""Authentication and parameters for scripts/schemathesis-control-plane.

Every operation with `bearer` security gets the demo owner's platform access token (from
`authstack token`, which refreshes the `authstack login` session when the token is refused);
the operator operations (`/v1/ops/...`) get the operator key instead, which they also accept.

Path parameters are strings of any form, so the generator almost never names an existing
account or instance: most cases get the demo account's id (`{id}` of `/v1/accounts/...`) or one
of its instances' ids (`{id}` of `/v1/ops/instances/...`), so that the operations behind the
404 are fuzzed too. The value replaced is as schema-valid as the one put in.
"""

import os
import random
import subprocess

import requests
import schemathesis

BASE_URL = os.environ["AUTHSTACK_URL"]
BIN = os.environ["AUTHSTACK_BIN"]
ACCOUNT_ID = os.environ["AUTHSTACK_ACCOUNT_ID"]
OPS_KEY = os.environ["AUTHSTACK_OPS_KEY"]
TIMEOUT = 10
# Seeded like the run, so that a run is repeatable.
CHOICE = random.Random(1)


class _User:
    token = os.environ["AUTHSTACK_USER_TOKEN"]


def _user_token():
    me = requests.get(
        BASE_URL + "/v1/me",
        headers={"Authorization": f"Bearer {_User.token}"},
        timeout=TIMEOUT,
    )
    if me.status_code != 200:
        _User.token = subprocess.run(
            [BIN, "token"], check=True, capture_output=True, text=True, timeout=TIMEOUT
        ).stdout.strip()
    return _User.token


def _instance_ids():
    if not hasattr(_instance_ids, "ids"):
        listed = requests.get(
            BASE_URL + "/v1/ops/instances",
            headers={"Authorization": f"Bearer {OPS_KEY}"},
            timeout=TIMEOUT,
        )
        listed.raise_for_status()
        _instance_ids.ids = [i["id"] for i in listed.json()["data"]]
    return _instance_ids.ids


def _credential(ctx):
    """Which credential an operation takes: none, the operator key or the user's token."""
    if not ctx.operation.definition.raw.get("security"):
        return "none"
    return "operator" if ctx.operation.path.startswith("/v1/ops/") else "user"


@schemathesis.auth(refresh_interval=300, cache_by_key=lambda case, ctx: _credential(ctx), retry_on=[401])
class ControlPlane:
    def get(self, case, ctx):
        credential = _credential(ctx)
        if credential == "operator":
            return OPS_KEY
        if credential == "user":
            return _user_token()
        return None

    def set(self, case, data, ctx):
        if data is not None:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if not path_parameters or "id" not in path_parameters or CHOICE.random() < 0.2:
        return path_parameters
    path = ctx.operation.path
    if path.startswith("/v1/accounts/"):
        path_parameters["id"] = ACCOUNT_ID
    elif path.startswith("/v1/ops/instances/"):
        path_parameters["id"] = CHOICE.choice(_instance_ids())
    return path_parameters


@schemathesis.hook
def map_body(ctx, body):
    """An account webhook's `url` that would be delivered to goes to a closed loopback port: the
    control plane under `authstack dev` sends its events to any address, and the fuzzer's must
    not leave this machine. URLs the control plane refuses anyway (other schemes, garbage) stay."""
    op = ctx.operation
    if op.method.upper() == "POST" and op.path == "/v1/accounts/{id}/webhooks" and isinstance(body, dict):
        url = body.get("url")
        if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
            body["url"] = "http://127.0.0.1:9/schemathesis"
    return body
