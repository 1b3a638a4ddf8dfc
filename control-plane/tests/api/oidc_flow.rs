//! The authorization-code flow through an instance's address on the gateway, with no AuthStack
//! key: what a browser and a standard OpenID Connect library do knowing only the issuer URL, a
//! client id and its secret. Discovery, authorize, the hosted sign-in page, the code back at the
//! redirect URI, the exchange (`client_secret_basic`, PKCE S256) and userinfo; each step is
//! checked on the way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A registered confidential client.
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub redirect_uri: &'a str,
}

/// A client that does not follow redirects: the flow reads every `Location`.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// `name=value; attributes` of a cookie the response sets.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("json")
}

/// The discovery document under `issuer`, which must name itself and endpoints under it.
pub async fn discover(issuer: &str) -> Value {
    let discovery = json(
        browser()
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .expect("discovery"),
    )
    .await;
    assert_eq!(discovery["issuer"], issuer, "{discovery}");
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{issuer}/oauth2/authorize"),
        "{discovery}"
    );
    discovery
}

/// Signs `email` in to `client` at `issuer` and answers userinfo's claims.
pub async fn sign_in(issuer: &str, client: &Client<'_>, email: &str, password: &str) -> Value {
    let discovery = discover(issuer).await;
    let field = |name: &str| discovery[name].as_str().expect("endpoint").to_owned();

    // authorize → the hosted sign-in page → back to the app with a code, all keyless.
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let browser = browser();
    let started = browser
        .get(field("authorization_endpoint"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client.id),
            ("redirect_uri", client.redirect_uri),
            ("scope", "openid email"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let login = location(&started);
    assert!(login.starts_with(&format!("{issuer}/login?")), "{login}");
    let page = browser.get(&login).send().await.expect("login page");
    assert_eq!(page.status(), StatusCode::OK);
    let csrf_cookie = cookie(&page, "authstack_flow");
    // The instance scopes its cookies to its own address on the shared gateway host.
    let address = reqwest::Url::parse(issuer).expect("issuer URL");
    assert!(
        csrf_cookie.contains(&format!("Path={}", address.path())),
        "{csrf_cookie}"
    );
    let html = page.text().await.expect("html");
    let signed_in = browser
        .post(format!("{issuer}/login"))
        .header("cookie", csrf_cookie.split(';').next().unwrap_or_default())
        .form(&[
            ("flow", hidden(&html, "flow").as_str()),
            ("csrf", hidden(&html, "csrf").as_str()),
            ("method", hidden(&html, "method").as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let back = reqwest::Url::parse(&location(&signed_in)).expect("url");
    let param = |name: &str| {
        back.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    assert!(back.as_str().starts_with(client.redirect_uri), "{back}");
    assert_eq!(param("iss"), issuer);
    assert_eq!(param("state"), "st-1");

    // The code exchange (client_secret_basic) and userinfo, also keyless.
    let tokens = json(
        browser
            .post(field("token_endpoint"))
            .basic_auth(client.id, Some(client.secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", param("code").as_str()),
                ("redirect_uri", client.redirect_uri),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .expect("token"),
    )
    .await;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    json(
        browser
            .get(field("userinfo_endpoint"))
            .bearer_auth(access)
            .send()
            .await
            .expect("userinfo"),
    )
    .await
}
