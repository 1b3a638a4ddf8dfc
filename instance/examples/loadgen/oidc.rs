//! The OpenID Provider's scenarios, driven over HTTP as a browser and an application would (the
//! same steps as `tests/api/oidc_support.rs`), against one confidential application:
//!
//! - `oidc-signin`: one complete authorization-code sign-in per iteration, timed whole:
//!   GET /oauth2/authorize (fresh state, nonce and PKCE S256) → GET /login (the hosted page: its
//!   hidden flow and CSRF fields, its CSRF cookie) → POST /login with the worker's email and
//!   password → the code from the redirect → POST /oauth2/token (client_secret_basic and the
//!   code_verifier) → an ID token carrying the request's nonce.
//! - `oidc-exchange`: code exchanges alone. Each worker signs in once, then collects codes through
//!   its SSO session for `seconds` (GET /oauth2/authorize with the SSO cookie answers a code at
//!   once); that phase is not measured. Then all workers together redeem their codes for
//!   `seconds` (or until one runs out), and only those POST /oauth2/token requests are counted:
//!   one per exchange, each signing two tokens (access and ID).
//! - `oidc-page`: the hosted page's time to first byte. Every GET of /login rotates the flow's
//!   CSRF token (a database write), and a user loads a flow's page once, so each iteration
//!   starts a fresh flow with GET /oauth2/authorize (untimed) and times GET /login?flow=… from
//!   sending to its status line and headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{PASSWORD, Sample, Worker};

/// Where the application's callbacks would go; never requested (redirects are not followed).
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The steps of `oidc-signin`, each reported as its mean time.
pub const SIGNIN_STEPS: [&str; 4] = ["authorize", "page", "submit", "token"];

/// What one counted operation of `scenario` is.
pub fn counts(scenario: &str) -> &'static str {
    match scenario {
        "oidc-signin" => "complete sign-ins (authorize, page, submit, token: 4 requests each)",
        "oidc-exchange" => "code exchanges (POST /oauth2/token, 2 RS256 signatures each)",
        "oidc-page" => "hosted page loads (GET /login, time to first byte)",
        _ => "requests",
    }
}

/// The registered application the scenarios sign in to.
#[derive(Clone)]
pub struct Application {
    id: String,
    secret: String,
}

pub async fn register(
    http: &reqwest::Client,
    base: &str,
    admin_key: &str,
) -> anyhow::Result<Application> {
    let reply = http
        .post(format!("{base}/v1/admin/applications"))
        .bearer_auth(admin_key)
        .json(&json!({ "name": "Benchmark", "kind": "web", "redirect_uris": [REDIRECT] }))
        .send()
        .await?;
    if reply.status().as_u16() != 201 {
        bail!(
            "registering the application failed: {}",
            reply.text().await?
        );
    }
    let body: Value = reply.json().await?;
    Ok(Application {
        id: body["id"].as_str().context("application id")?.to_owned(),
        secret: body["client_secret"]
            .as_str()
            .context("client secret")?
            .to_owned(),
    })
}

/// One authorization request's secrets: state, nonce and PKCE verifier.
struct Request {
    state: String,
    nonce: String,
    verifier: String,
}

impl Request {
    fn new() -> Self {
        let random = || uuid::Uuid::new_v4().simple().to_string();
        Request {
            state: random(),
            nonce: random(),
            verifier: format!("{}{}", random(), random()),
        }
    }

    fn url(&self, base: &str, client: &Application) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid email")
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("{base}/oauth2/authorize?{query}")
    }
}

/// The redirect's target, which must be on the instance (traffic stays on it) or the callback.
fn location(reply: &reqwest::Response) -> anyhow::Result<String> {
    ensure!(
        reply.status().as_u16() == 303,
        "expected a 303 redirect, got {}",
        reply.status()
    );
    Ok(reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("a Location header")?
        .to_owned())
}

/// `name=value` of the cookie the response sets whose name is `base`, with or without a
/// `__Host-`/`__Secure-` prefix.
fn cookie(reply: &reqwest::Response, base: &str) -> anyhow::Result<String> {
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, _)| name == base || name.ends_with(&format!("-{base}")))
        })
        .map(str::to_owned)
        .with_context(|| format!("a {base} cookie"))
}

/// The value of the page's hidden field `name`.
fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .with_context(|| format!("a {name} field on the page"))?
        + marker.len();
    Ok(html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// GET /oauth2/authorize without an SSO session: the sign-in page's URL.
async fn start_flow(w: &Worker, client: &Application, request: &Request) -> anyhow::Result<String> {
    let reply = w.http.get(request.url(&w.base, client)).send().await?;
    let page = location(&reply)?;
    ensure!(
        page.starts_with(&format!("{}/login?flow=", w.base)),
        "authorize sent the browser to {page}"
    );
    Ok(page)
}

/// The hosted page's form: its flow and CSRF fields and its CSRF cookie.
struct LoginPage {
    flow: String,
    csrf: String,
    cookie: String,
}

async fn read_page(reply: reqwest::Response) -> anyhow::Result<LoginPage> {
    ensure!(
        reply.status().is_success(),
        "the sign-in page answered {}",
        reply.status()
    );
    let cookie = cookie(&reply, "authstack_flow")?;
    let html = reply.text().await?;
    Ok(LoginPage {
        flow: hidden(&html, "flow")?,
        csrf: hidden(&html, "csrf")?,
        cookie,
    })
}

/// The code in a redirect to the callback, after checking its state.
fn code_in(callback: &str, request: &Request) -> anyhow::Result<String> {
    ensure!(
        callback.starts_with(REDIRECT),
        "expected the callback, got {callback}"
    );
    let url = url::Url::parse(callback)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    };
    ensure!(
        param("state").as_deref() == Some(request.state.as_str()),
        "the callback's state differs"
    );
    param("code").context("a code in the callback")
}

/// POST /login: the code, and the SSO cookie.
async fn submit(
    w: &Worker,
    page: &LoginPage,
    request: &Request,
) -> anyhow::Result<(String, String)> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("flow", &page.flow)
        .append_pair("csrf", &page.csrf)
        .append_pair("method", "password")
        .append_pair("email", &w.email)
        .append_pair("password", PASSWORD)
        .finish();
    let reply = w
        .http
        .post(format!("{}/login", w.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &page.cookie)
        .body(form)
        .send()
        .await?;
    let code = code_in(&location(&reply)?, request)?;
    Ok((code, cookie(&reply, "authstack_session")?))
}

/// POST /oauth2/token with client_secret_basic; checks that an ID token with the request's
/// nonce came back.
async fn redeem(
    w: &Worker,
    client: &Application,
    code: &str,
    request: &Request,
) -> anyhow::Result<()> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("code_verifier", &request.verifier)
        .finish();
    let reply = w
        .http
        .post(format!("{}/oauth2/token", w.base))
        .basic_auth(&client.id, Some(&client.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(status.is_success(), "the token endpoint answered {body}");
    let id_token = body["id_token"].as_str().context("an id_token")?;
    let payload = id_token.split('.').nth(1).context("a JWT")?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    ensure!(
        claims["nonce"] == request.nonce.as_str(),
        "the ID token's nonce differs"
    );
    Ok(())
}

/// A whole sign-in; adds each step's time to `steps`.
async fn sign_in(
    w: &Worker,
    client: &Application,
    steps: &mut [Duration],
) -> anyhow::Result<String> {
    let request = Request::new();
    let mut lap = Instant::now();
    let mut step = |steps: &mut [Duration], i: usize| {
        steps[i] += lap.elapsed();
        lap = Instant::now();
    };
    let page_url = start_flow(w, client, &request).await?;
    step(steps, 0);
    let page = read_page(w.http.get(&page_url).send().await?).await?;
    step(steps, 1);
    let (code, sso) = submit(w, &page, &request).await?;
    step(steps, 2);
    redeem(w, client, &code, &request).await?;
    step(steps, 3);
    Ok(sso)
}

pub async fn signin(
    w: Worker,
    client: Application,
    started: Instant,
    seconds: f64,
) -> anyhow::Result<Sample> {
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut sample = Sample::new(started);
    sample.steps = vec![Duration::ZERO; SIGNIN_STEPS.len()];
    while Instant::now() < deadline {
        let sent = Instant::now();
        let outcome = sign_in(&w, &client, &mut sample.steps).await.map(drop);
        sample.record(sent.elapsed(), outcome);
    }
    sample.ended = Instant::now();
    Ok(sample)
}

pub async fn page(
    w: Worker,
    client: Application,
    started: Instant,
    seconds: f64,
) -> anyhow::Result<Sample> {
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut sample = Sample::new(started);
    while Instant::now() < deadline {
        let page_url = match start_flow(&w, &client, &Request::new()).await {
            Ok(url) => url,
            Err(err) => {
                sample.fail(err);
                continue;
            }
        };
        let sent = Instant::now();
        let reply = w.http.get(&page_url).send().await?;
        let first_byte = sent.elapsed();
        let outcome = read_page(reply).await.map(drop);
        sample.record(first_byte, outcome);
    }
    sample.ended = Instant::now();
    Ok(sample)
}

/// A code obtained through the SSO session, with the request it answers.
struct Code {
    code: String,
    request: Request,
}

/// Signs in once, then collects codes through the SSO session for `seconds`; returns them and
/// how long the collecting took.
async fn collect_codes(
    w: &Worker,
    client: &Application,
    seconds: f64,
) -> anyhow::Result<(Vec<Code>, Duration)> {
    let sso = sign_in(w, client, &mut [Duration::ZERO; 4]).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut codes = Vec::new();
    while Instant::now() < deadline {
        let request = Request::new();
        let reply = w
            .http
            .get(request.url(&w.base, client))
            .header("cookie", &sso)
            .send()
            .await?;
        let code = code_in(&location(&reply)?, &request)?;
        codes.push(Code { code, request });
    }
    Ok((codes, started.elapsed()))
}

pub async fn exchange(
    w: Worker,
    client: Application,
    seconds: f64,
    ready: Arc<tokio::sync::Barrier>,
    out_of_codes: Arc<AtomicBool>,
) -> anyhow::Result<Sample> {
    let collected = collect_codes(&w, &client, seconds).await;
    // Every worker reaches the barrier, or the others would wait for ever.
    ready.wait().await;
    let (codes, collecting) = collected?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut sample = Sample::new(started);
    sample.prepared = Some((codes.len() as u64, collecting));
    let mut codes = codes.into_iter();
    while Instant::now() < deadline && !out_of_codes.load(Ordering::Relaxed) {
        let Some(Code { code, request }) = codes.next() else {
            eprintln!(
                "loadgen: a worker ran out of codes after {:.1} s; the window ends there",
                started.elapsed().as_secs_f64()
            );
            out_of_codes.store(true, Ordering::Relaxed);
            break;
        };
        let sent = Instant::now();
        let outcome = redeem(&w, &client, &code, &request).await;
        sample.record(sent.elapsed(), outcome);
    }
    sample.ended = Instant::now();
    Ok(sample)
}
