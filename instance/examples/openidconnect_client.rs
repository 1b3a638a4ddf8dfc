//! The README's Rust integration, as it is tested (sdk-js/e2e/snippets.test.mjs): the
//! `openidconnect` crate signs a user in to an AuthStack instance with the authorization-code flow
//! and PKCE, knowing only the issuer, a client id and a secret.
//!
//! `openidconnect_client ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI` prints the authorization URL,
//! reads the callback URL from stdin and prints the user's claims as JSON.

use std::io::BufRead;

// README:begin
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

async fn sign_in(
    issuer: &str,
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    open_browser: impl FnOnce(&url::Url) -> anyhow::Result<url::Url>,
) -> anyhow::Result<CoreUserInfoClaims> {
    // No redirects: a provider must not be able to point this client elsewhere (SSRF).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into())?, &http).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.into()),
        Some(ClientSecret::new(client_secret.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.into())?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    // Keep verifier, state and nonce in the user's session until the callback arrives.
    let callback = open_browser(&url)?;
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    anyhow::ensure!(
        param("state").as_deref() == Some(state.secret().as_str()),
        "state mismatch"
    );
    anyhow::ensure!(
        param("iss").as_deref() == Some(issuer),
        "the answer is not from this issuer"
    );
    let code = param("code").ok_or_else(|| anyhow::anyhow!("no code: {:?}", param("error")))?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await?;
    let id_token = token
        .id_token()
        .ok_or_else(|| anyhow::anyhow!("no ID token"))?;
    // Checks the signature (by the JWKS), iss, aud, expiry and nonce.
    let claims = id_token.claims(&client.id_token_verifier(), &nonce)?;
    let user = client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))?
        .request_async(&http)
        .await?;
    Ok(user)
}
// README:end

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // This workspace builds reqwest with rustls and no default crypto provider: pick one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [issuer, client_id, client_secret, redirect_uri] = args.as_slice() else {
        anyhow::bail!("usage: openidconnect_client ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI");
    };
    let open_browser = |url: &url::Url| {
        println!("{url}");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(url::Url::parse(line.trim())?)
    };
    let user = sign_in(issuer, client_id, client_secret, redirect_uri, open_browser).await?;
    println!("{}", serde_json::to_string(&user)?);
    Ok(())
}
