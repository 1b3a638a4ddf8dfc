"""The README's Python integration, as it is tested (snippets.test.mjs): Authlib signs a user in
to an AuthStack instance with the authorization-code flow and PKCE, knowing only the issuer, a
client id and a secret; joserfc (Authlib's JOSE library) checks the ID token.

Run by the test as `authlib_client.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI`: it prints the
authorization URL, reads the callback URL from stdin and prints the user's claims as JSON.
"""

import json
import sys

# README:begin
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet


def sign_in(issuer, client_id, client_secret, redirect_uri, open_browser):
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    client = OAuth2Session(
        client_id,
        client_secret,
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    code_verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    # Keep code_verifier, state and nonce in the user's session until the callback arrives.
    callback = open_browser(url)
    if parse_qs(urlsplit(callback).query).get("iss") != [metadata["issuer"]]:
        raise ValueError("the answer is not from this issuer")  # RFC 9207 mix-up defence
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=code_verifier,
    )
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(id_token.claims)
    return client.get(metadata["userinfo_endpoint"], timeout=10).json()
# README:end


if __name__ == "__main__":
    issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]

    def open_browser(url):
        print(url, flush=True)
        return sys.stdin.readline().strip()

    print(json.dumps(sign_in(issuer, client_id, client_secret, redirect_uri, open_browser)), flush=True)
