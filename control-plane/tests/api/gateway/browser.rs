//! What browsers meet at the gateway: CORS, per-key rate limits, and each instance's public
//! address.

use super::*;

#[tokio::test]
async fn gateway_cors_preflights_and_origins() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let _other = world.real_instance("test", &[OTHER_ORIGIN]).await;
    let publishable = world.key(&live, "publishable", None).await;
    let secret = world.key(&live, "secret", None).await;

    let preflight = world
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/auth/signup", world.url),
        )
        .header("origin", APP_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-authstack-key",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(headers["vary"], "Origin");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .expect("text")
            .contains("POST")
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "content-type, x-authstack-key"
    );
    assert_eq!(headers["access-control-max-age"], "600");

    let denied = world
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/auth/signup", world.url),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    // A preflight names no key, so no instance: it is answered for every origin, and nothing
    // is forwarded. The actual request is refused below, readably.
    assert_eq!(denied.status(), StatusCode::NO_CONTENT);
    let refused = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &publishable.key)
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery staple 42" }))
        .send()
        .await
        .expect("send");
    let refused = json_of(refused).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "origin_not_allowed");
    // The browser may read why: the origin, and how to allow it.
    assert_eq!(
        refused.1["access-control-allow-origin"],
        "https://evil.example"
    );
    let message = refused.2["message"].as_str().expect("message");
    assert!(message.contains("https://evil.example"), "{message}");
    assert!(message.contains("allowed origins"), "{message}");

    // The actual request from the instance's own origin.
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

    // An origin another instance allows is refused before anything reaches this one.
    let foreign = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &publishable.key)
        .header("origin", OTHER_ORIGIN)
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery staple 42" }))
        .send()
        .await
        .expect("send");
    assert_error(
        &json_of(foreign).await,
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    );
    let users = world
        .get("/v1/admin/users")
        .bearer_auth(&secret.key)
        .send()
        .await
        .expect("users");
    let (status, _, page) = json_of(users).await;
    assert_eq!(status, StatusCode::OK);
    assert!(emails(&page).is_empty(), "{page}");

    // Servers send no Origin and pass.
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

#[tokio::test]
async fn each_instance_has_an_address_for_keyless_discovery_and_mailed_pages() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let other = world.real_instance("test", &[]).await;
    let other_key = world.key(&other, "publishable", None).await;
    let own_key = world.key(&live, "publishable", None).await;
    let base = format!("{}/i/{}", world.url, live.id);

    // A verifier needs nothing but the URL: no key, no custom header, any origin.
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
    let jwks = json_of(
        world
            .http
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    assert_eq!(jwks.0, StatusCode::OK);
    assert_eq!(jwks.2["keys"][0]["alg"], "RS256");
    // The same keys as the instance's own JWKS: the address reaches this instance.
    let direct: Value = world
        .http
        .get(format!(
            "{}/.well-known/jwks.json",
            live.direct.as_deref().expect("real")
        ))
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

    // The pages mailed links open are reachable too (their forms carry the token).
    let page = world
        .http
        .post(format!("{base}/verify-email"))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );

    // Everything else needs a key, and only the instance's own key works under its address.
    let keyless = json_of(
        world
            .http
            .get(format!("{base}/v1/admin/users"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&keyless, StatusCode::UNAUTHORIZED, "unauthorized");
    let foreign = json_of(
        world
            .http
            .get(format!("{base}/v1/config/public"))
            .header("x-authstack-key", &other_key.key)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&foreign, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let own = world
        .http
        .get(format!("{base}/v1/config/public"))
        .header("x-authstack-key", &own_key.key)
        .send()
        .await
        .expect("send");
    assert_eq!(own.status(), StatusCode::OK);
    let unknown = json_of(
        world
            .http
            .get(format!(
                "{}/i/ins_nosuchinstance/.well-known/jwks.json",
                world.url
            ))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
}
