//! What browsers meet at the gateway: CORS, per-key rate limits, and each instance's public
//! address.
//!
//! - `gateway_answers_preflights_for_every_origin`
//! - `gateway_refuses_a_foreign_origin_readably`
//! - `gateway_passes_the_instances_own_origin_and_servers_without_one`
//! - `an_origin_another_instance_allows_is_refused_before_anything_reaches_this_one`
//! - `gateway_rate_limits_each_key_by_its_plan`
//! - `an_instances_address_serves_keyless_discovery_and_the_instances_own_keys`
//! - `an_instances_address_serves_the_pages_its_mails_link_to`
//! - `under_an_address_everything_else_needs_the_instances_own_key`

use super::*;

/// A live instance allowing the app's origin beside a test instance allowing another (both
/// running while they are held), and the live instance's publishable key.
async fn two_origins(world: &World) -> (Instance, Instance, Key) {
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let other = world.real_instance("test", &[OTHER_ORIGIN]).await;
    let publishable = world.key(&live, "publishable", None).await;
    (live, other, publishable)
}

/// A signup through the gateway with `key` from `origin`.
async fn signup_from(world: &World, key: &Key, origin: &str) -> (StatusCode, HeaderMap, Value) {
    let body = json!({ "email": "eve@example.com", "password": "correct horse battery staple 42" });
    let response = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &key.key)
        .header("origin", origin)
        .json(&body)
        .send()
        .await
        .expect("send");
    json_of(response).await
}

#[tokio::test]
async fn gateway_answers_preflights_for_every_origin() {
    let world = World::new().await;
    let _instances = two_origins(&world).await;
    let preflight = |origin: &'static str| {
        world
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/auth/signup", world.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
    };
    let allowed = preflight(APP_ORIGIN)
        .header(
            "access-control-request-headers",
            "content-type, x-authstack-key",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(headers["vary"], "Origin");
    let methods = headers["access-control-allow-methods"].to_str();
    assert!(methods.expect("text").contains("POST"));
    assert_eq!(
        headers["access-control-allow-headers"],
        "content-type, x-authstack-key"
    );
    assert_eq!(headers["access-control-max-age"], "600");
    // A preflight names no key, so no instance: it is answered for every origin, and nothing
    // is forwarded. The actual request is refused (`gateway_refuses_a_foreign_origin_readably`).
    let denied = preflight("https://evil.example").send().await;
    assert_eq!(denied.expect("preflight").status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn gateway_refuses_a_foreign_origin_readably() {
    let world = World::new().await;
    let (_live, _other, publishable) = two_origins(&world).await;
    let refused = signup_from(&world, &publishable, "https://evil.example").await;
    assert_error(&refused, StatusCode::FORBIDDEN, "origin_not_allowed");
    // The browser may read why: the origin, and how to allow it.
    let origin = &refused.1["access-control-allow-origin"];
    assert_eq!(origin, "https://evil.example");
    let message = refused.2["message"].as_str().expect("message");
    assert!(message.contains("https://evil.example"), "{message}");
    assert!(message.contains("allowed origins"), "{message}");
}

#[tokio::test]
async fn gateway_passes_the_instances_own_origin_and_servers_without_one() {
    let world = World::new().await;
    let (_live, _other, publishable) = two_origins(&world).await;
    let allowed = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &publishable.key)
        .header("origin", APP_ORIGIN)
        .send()
        .await
        .expect("send");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(
        allowed.headers()["access-control-expose-headers"],
        "X-Request-Id, Retry-After"
    );
    let server = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &publishable.key)
        .send()
        .await
        .expect("send");
    assert_eq!(server.status(), StatusCode::OK);
    assert!(!server.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn an_origin_another_instance_allows_is_refused_before_anything_reaches_this_one() {
    let world = World::new().await;
    let (live, _other, publishable) = two_origins(&world).await;
    let secret = world.key(&live, "secret", None).await;
    let foreign = signup_from(&world, &publishable, OTHER_ORIGIN).await;
    assert_error(&foreign, StatusCode::FORBIDDEN, "origin_not_allowed");
    let users = world
        .get("/v1/admin/users")
        .bearer_auth(&secret.key)
        .send()
        .await
        .expect("users");
    let (status, _, page) = json_of(users).await;
    assert_eq!(status, StatusCode::OK);
    assert!(emails(&page).is_empty(), "{page}");
}

#[tokio::test]
async fn gateway_rate_limits_each_key_by_its_plan() {
    let mut catalog = Catalog::built_in();
    let mut limited = catalog.plan("starter").expect("starter").clone();
    limited.id = "limited".into();
    limited.stripe_price_id = "price_limited".into();
    limited.limits.api_requests_per_second = 5;
    catalog.plans.push(limited);
    let world = World::with(catalog, Duration::from_secs(30)).await;
    let upstream = spawn_upstream(axum::Router::new().fallback(|| async { "ok" })).await;
    let instance = world
        .instance_at(
            "ins_limited",
            "limited",
            "ready",
            &format!("http://{upstream}"),
        )
        .await;
    let key = world.key(&instance, "publishable", None).await;
    let other = world.key(&instance, "publishable", None).await;

    let mut statuses = Vec::new();
    let mut limited_response = None;
    for _ in 0..12 {
        let response = world
            .get("/")
            .header("x-authstack-key", &key.key)
            .send()
            .await
            .expect("send");
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS && limited_response.is_none() {
            limited_response = Some(json_of(response).await);
        }
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!((5..12).contains(&ok), "{statuses:?}");
    let limited = limited_response.expect("a 429");
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(limited.1["retry-after"], "1");

    // Another key of the same instance has its own bucket.
    let response = world
        .get("/")
        .header("x-authstack-key", &other.key)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
}

/// A GET of `url` through the gateway, as JSON.
async fn get_json(world: &World, url: String, key: Option<&Key>) -> (StatusCode, HeaderMap, Value) {
    let mut request = world.http.get(url);
    if let Some(key) = key {
        request = request.header("x-authstack-key", &key.key);
    }
    json_of(request.send().await.expect("send")).await
}

/// A verifier needs nothing but the URL: no key, no custom header, any origin.
#[tokio::test]
async fn an_instances_address_serves_keyless_discovery_and_the_instances_own_keys() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let base = format!("{}/i/{}", world.url, live.id);
    let discovery = world
        .http
        .get(format!("{base}/.well-known/openid-configuration"))
        .header("origin", "https://verifier.example")
        .send()
        .await
        .expect("discovery");
    let (status, headers, body) = json_of(discovery).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(body["jwks_uri"].is_string(), "{body}");
    let jwks = get_json(&world, format!("{base}/.well-known/jwks.json"), None).await;
    assert_eq!(jwks.0, StatusCode::OK);
    assert_eq!(jwks.2["keys"][0]["alg"], "RS256");
    // The same keys as the instance's own JWKS: the address reaches this instance.
    let direct = live.direct.as_deref().expect("real");
    let direct: Value = world
        .http
        .get(format!("{direct}/.well-known/jwks.json"))
        .header(
            "x-authstack-gateway",
            live.secrets.gateway_secret.expose_secret(),
        )
        .send()
        .await
        .expect("direct")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks.2, direct);
}

/// Their forms carry the token.
#[tokio::test]
async fn an_instances_address_serves_the_pages_its_mails_link_to() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let page = world
        .http
        .post(format!("{}/i/{}/verify-email", world.url, live.id))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let content_type = page.headers()["content-type"].to_str().expect("ascii");
    assert!(content_type.starts_with("text/html"));
}

#[tokio::test]
async fn under_an_address_everything_else_needs_the_instances_own_key() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let other = world.real_instance("test", &[]).await;
    let other_key = world.key(&other, "publishable", None).await;
    let own_key = world.key(&live, "publishable", None).await;
    let base = format!("{}/i/{}", world.url, live.id);
    let keyless = get_json(&world, format!("{base}/v1/admin/users"), None).await;
    assert_error(&keyless, StatusCode::UNAUTHORIZED, "unauthorized");
    let config = format!("{base}/v1/config/public");
    let foreign = get_json(&world, config.clone(), Some(&other_key)).await;
    assert_error(&foreign, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let own = get_json(&world, config, Some(&own_key)).await;
    assert_eq!(own.0, StatusCode::OK);
    let unknown = format!("{}/i/ins_nosuchinstance/.well-known/jwks.json", world.url);
    let unknown = get_json(&world, unknown, None).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
}
