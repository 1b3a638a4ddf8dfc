//! The redirect flow through an instance's address on the gateway, with no AuthStack key: what
//! a standard OpenID Connect library does knowing only the issuer URL, a client id and a
//! secret.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

const REDIRECT: &str = "https://app.example.com/callback";
const PASSWORD: &str = "correct horse battery";

/// A client that does not follow redirects: the test reads every `Location`.
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

/// `name=value` of a cookie the response sets.
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

#[tokio::test]
async fn the_authorization_code_flow_runs_through_the_instances_address() {
    let world = World::new().await;
    let instance = world.addressed_instance("live", "ins_oidcaddress").await;
    let secret = world.key(&instance, "secret", None).await;
    let issuer = format!("{}/i/{}", world.url, instance.id);
    let admin = |path: &str, body: Value| {
        let request = world.http.post(format!("{}{path}", world.url));
        request.bearer_auth(&secret.key).json(&body).send()
    };
    let application: Value = admin(
        "/v1/admin/applications",
        json!({ "name": "web", "kind": "web", "redirect_uris": [REDIRECT] }),
    )
    .await
    .expect("application")
    .json()
    .await
    .expect("json");
    let client_id = application["id"].as_str().expect("id").to_owned();
    let client_secret = application["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let user = admin(
        "/v1/admin/users",
        json!({ "email": "ada@example.com", "password": PASSWORD, "email_verified": true }),
    )
    .await
    .expect("user");
    assert_eq!(user.status(), StatusCode::CREATED);

    // Discovery by plain GET names endpoints under the address.
    let discovery: Value = world
        .http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["issuer"], issuer.as_str());
    let authorize = discovery["authorization_endpoint"]
        .as_str()
        .expect("authorize");
    assert_eq!(authorize, format!("{issuer}/oauth2/authorize"));

    // authorize → the hosted sign-in page → back to the app with a code, all keyless.
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let browser = browser();
    let started = browser
        .get(authorize)
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
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
    assert!(
        csrf_cookie.contains(&format!("Path=/i/{}", instance.id)),
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
            ("email", "ada@example.com"),
            ("password", PASSWORD),
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
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(param("iss"), issuer);
    assert_eq!(param("state"), "st-1");

    // The code exchange (client_secret_basic) and userinfo, also keyless.
    let tokens: Value = world
        .http
        .post(discovery["token_endpoint"].as_str().expect("token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", param("code").as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let userinfo: Value = world
        .http
        .get(discovery["userinfo_endpoint"].as_str().expect("userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(userinfo["email"], "ada@example.com", "{userinfo}");
}
