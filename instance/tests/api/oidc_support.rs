//! Driving the OpenID Provider as a browser and a client would: authorization requests, the
//! hosted sign-in form (its cookie and CSRF field), and token requests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Reply, TestApp};

pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT: &str = "https://app.example.com/callback";

/// A registered application.
#[derive(Clone, Debug)]
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

pub const SIGNED_OUT: &str = "https://app.example.com/signed-out";

pub async fn register(app: &TestApp, kind: &str) -> Registered {
    let reply = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": format!("{kind} app"), "kind": kind,
                    "redirect_uris": [REDIRECT, "http://127.0.0.1:9999/cb"],
                    "post_logout_redirect_uris": [SIGNED_OUT] }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

pub async fn verified_user(app: &TestApp, email: &str) -> String {
    let created = app
        .post_as(
            "/v1/admin/users",
            &app.admin_key,
            json!({ "email": email, "password": PASSWORD, "email_verified": true }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.str("id")
}

/// A client that does not follow redirects, as the tests read every `Location`.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

pub fn query(params: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        out.append_pair(name, value);
    }
    out.finish()
}

/// The standard request parameters for `client`, with `extra` added or replacing them.
pub fn authorize_query(client: &Registered, pkce: Option<&Pkce>, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
    ];
    if let Some(pkce) = pkce {
        params.push(("code_challenge", pkce.challenge.as_str()));
        params.push(("code_challenge_method", "S256"));
    }
    // Later parameters replace the standard ones of the same name.
    params.retain(|(name, _)| !extra.iter().any(|(n, _)| n == name));
    params.extend_from_slice(extra);
    query(&params)
}

/// A redirect's status and `Location`, the HTML body otherwise, and its cookies.
#[derive(Clone)]
pub struct Hop {
    pub status: u16,
    pub location: String,
    pub html: String,
    pub cookies: Vec<String>,
    pub csp: String,
}

impl Hop {
    /// `name=value` of the cookie this response sets under `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }

    /// The query parameters of the redirect target.
    pub fn params(&self) -> Vec<(String, String)> {
        let url = url::Url::parse(&self.location).expect("absolute location");
        url.query_pairs().into_owned().collect()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

pub async fn hop(response: reqwest::Response) -> Hop {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    Hop {
        status,
        location,
        html: response.text().await.unwrap_or_default(),
        cookies,
        csp,
    }
}

pub async fn get(app: &TestApp, path_and_query: &str, cookie: Option<&str>) -> Hop {
    let mut request = browser().get(app.url(path_and_query));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    hop(request.send().await.expect("request")).await
}

/// The path and query of an instance URL (the issuer is not the test server's address).
pub fn local(app: &TestApp, location: &str) -> String {
    let issuer = app.app.issuer.trim_end_matches('/');
    location
        .strip_prefix(issuer)
        .unwrap_or_else(|| panic!("{location} is not on {issuer}"))
        .to_owned()
}

/// The hosted sign-in page of a flow: its form's hidden fields and the CSRF cookie.
#[derive(Clone)]
pub struct LoginPage {
    pub flow: String,
    pub csrf: String,
    pub cookie: String,
    pub hop: Hop,
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub async fn open_login(app: &TestApp, location: &str) -> LoginPage {
    open_flow_page(app, location, None).await
}

/// A page of a flow (sign-in or consent) opened with `cookie`: its form's fields and cookie.
pub async fn open_flow_page(app: &TestApp, location: &str, cookie: Option<&str>) -> LoginPage {
    let page = get(app, &local(app, location), cookie).await;
    assert_eq!(page.status, 200, "{}", page.html);
    LoginPage {
        flow: hidden(&page.html, "flow"),
        csrf: hidden(&page.html, "csrf"),
        cookie: page
            .cookie("__Host-authstack_flow")
            .expect("the page sets its CSRF cookie"),
        hop: page,
    }
}

pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> Hop {
    let mut request = browser()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(form));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    hop(request.send().await.expect("request")).await
}

pub async fn submit_login(app: &TestApp, page: &LoginPage, email: &str, password: &str) -> Hop {
    post_form(
        app,
        "/login",
        Some(&page.cookie),
        &[
            ("flow", &page.flow),
            ("csrf", &page.csrf),
            ("method", "password"),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

/// Signs `email` in through the hosted page; the final redirect (code, state, iss) and the SSO
/// cookie.
pub struct SignedIn {
    pub callback: Hop,
    pub code: String,
    pub sso: String,
}

pub async fn sign_in(app: &TestApp, query: &str, email: &str) -> SignedIn {
    let start = get(app, &format!("/oauth2/authorize?{query}"), None).await;
    assert_eq!(start.status, 303, "{}", start.html);
    let page = open_login(app, &start.location).await;
    let callback = submit_login(app, &page, email, PASSWORD).await;
    assert_eq!(callback.status, 303, "{}", callback.html);
    assert!(
        callback.location.starts_with(REDIRECT),
        "{}",
        callback.location
    );
    SignedIn {
        code: callback.param("code").expect("a code"),
        sso: callback
            .cookie("__Host-authstack_session")
            .expect("the SSO cookie"),
        callback,
    }
}

/// A token request with `form`, authenticated by HTTP Basic when `basic` is given.
pub async fn token(app: &TestApp, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Reply {
    let mut request = browser()
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(form));
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    Reply::from(request.send().await.expect("request")).await
}

/// Redeems `code` as a confidential `client` with Basic authentication.
pub async fn redeem(app: &TestApp, client: &Registered, code: &str) -> Reply {
    let secret = client.secret.as_deref().expect("a confidential client");
    token(
        app,
        Some((&client.id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

pub async fn userinfo(app: &TestApp, access_token: &str) -> Reply {
    app.get_as("/oauth2/userinfo", access_token).await
}

/// The claims of a JWT, unverified (the tests check what the instance put in).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

/// Asserts an RFC 6749 error answer.
#[track_caller]
pub fn assert_oauth_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"], code, "{}", reply.body);
    assert!(
        reply.body["error_description"].is_string(),
        "{}",
        reply.body
    );
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

/// A form post to a client-authenticated endpoint as `client`: HTTP Basic for a confidential
/// client, `client_id` in the form for a public one.
pub async fn client_post(
    app: &TestApp,
    path: &str,
    client: &Registered,
    form: &[(&str, &str)],
) -> Reply {
    let mut form = form.to_vec();
    let basic = match &client.secret {
        Some(secret) => Some((client.id.as_str(), secret.as_str())),
        None => {
            form.push(("client_id", client.id.as_str()));
            None
        }
    };
    let mut request = browser()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&form));
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    Reply::from(request.send().await.expect("request")).await
}

pub async fn refresh(app: &TestApp, client: &Registered, refresh_token: &str) -> Reply {
    client_post(
        app,
        "/oauth2/token",
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

pub async fn revoke(app: &TestApp, client: &Registered, token: &str) -> Reply {
    client_post(app, "/oauth2/revoke", client, &[("token", token)]).await
}

pub async fn introspect(app: &TestApp, client: &Registered, token: &str) -> Reply {
    client_post(app, "/oauth2/introspect", client, &[("token", token)]).await
}

/// A user signed in to `client` through the hosted page: the token response and the SSO cookie.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub id_token: String,
    pub sso: String,
}

/// Signs a new verified user in to `client` (confidential, or public with PKCE) and redeems
/// the code.
pub async fn signed_in(app: &TestApp, client: &Registered) -> Tokens {
    let email = format!("u{}@example.com", uuid::Uuid::new_v4().simple());
    verified_user(app, &email).await;
    let pkce = pkce();
    let done = sign_in(app, &authorize_query(client, Some(&pkce), &[]), &email).await;
    let tokens = exchange(app, client, &done.code, &pkce).await;
    Tokens {
        sso: done.sso,
        ..tokens
    }
}

/// Redeems `code` (with the PKCE verifier) as `client`.
pub async fn exchange(app: &TestApp, client: &Registered, code: &str, pkce: &Pkce) -> Tokens {
    let reply = client_post(
        app,
        "/oauth2/token",
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    Tokens {
        access: reply.str("access_token"),
        refresh: reply.str("refresh_token"),
        id_token: reply.str("id_token"),
        sso: String::new(),
    }
}

/// A second application's sign-in through the SSO cookie alone (no password): its tokens.
pub async fn sso_sign_in(app: &TestApp, client: &Registered, sso: &str) -> Tokens {
    sso_sign_in_with(app, client, sso, &[]).await
}

/// The same with `extra` authorization parameters.
pub async fn sso_sign_in_with(
    app: &TestApp,
    client: &Registered,
    sso: &str,
    extra: &[(&str, &str)],
) -> Tokens {
    let pkce = pkce();
    let answer = get(
        app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(client, Some(&pkce), extra)
        ),
        Some(sso),
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.html);
    let code = answer.param("code").expect("a code at once");
    Tokens {
        sso: sso.to_owned(),
        ..exchange(app, client, &code, &pkce).await
    }
}
