"""Verifies an AuthStack access token the way a Python API would, with PyJWT and nothing else.

Usage: pyjwt_verify.py < token   (the token on stdin, so it is not in the process list)

1. Decodes the token without verifying it, only to read `iss` and `aud`.
2. Fetches `{iss}/.well-known/openid-configuration` with plain urllib: no custom headers (no
   API key), as any OpenID Connect library does.
3. `jwt.PyJWKClient(config["jwks_uri"])` (again no custom headers) finds the signing key by the
   token's `kid`; `jwt.decode` checks the RS256 signature, `exp`, the audience and the issuer.

Prints the subject (`sub`) on success. On any failure prints what failed to stderr and exits 1.
"""

import json
import sys
import urllib.error
import urllib.request

import jwt


def fail(message):
    print(f"pyjwt_verify: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    token = sys.stdin.read().strip()
    if not token:
        fail("no token on stdin")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as err:
        fail(f"not a JWT: {err}")
    iss = unverified.get("iss")
    aud = unverified.get("aud")
    if not iss or not aud:
        fail(f"the token has no iss or aud: iss={iss!r} aud={aud!r}")

    discovery = iss.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(discovery, timeout=10) as response:
            config = json.load(response)
    except urllib.error.HTTPError as err:
        body = err.read().decode("utf-8", "replace")[:300]
        fail(f"GET {discovery} (no headers): HTTP {err.code}: {body}")
    except (urllib.error.URLError, ValueError) as err:
        fail(f"GET {discovery} (no headers): {err}")
    if config.get("issuer") != iss:
        fail(f"the discovery document's issuer {config.get('issuer')!r} is not the token's iss {iss!r}")
    jwks_uri = config.get("jwks_uri")
    if not jwks_uri:
        fail(f"{discovery} has no jwks_uri")

    try:
        key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=aud, issuer=iss)
    except jwt.PyJWKClientError as err:
        fail(f"the JWKS at {jwks_uri} (no headers): {err}")
    except jwt.PyJWTError as err:
        fail(f"verification failed: {type(err).__name__}: {err}")
    print(claims["sub"])


if __name__ == "__main__":
    main()
