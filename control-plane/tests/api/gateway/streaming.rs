//! Forwarding: headers and streamed bodies both ways, and the per-key request metrics.
//!
//! - `gateway_streams_bodies_both_ways_without_buffering`
//! - `gateway_forwards_the_callers_headers_and_sets_its_own`
//! - `gateway_exchanges_a_secret_key_for_the_admin_key`
//! - `gateway_metrics_list_requests_by_key`

use super::*;

/// A request body fed chunk by chunk by the test.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|data| Ok(Frame::data(data))))
    }
}

/// An upstream that notes the headers it got and streams the request body back as it comes,
/// an instance of `world` at it, and the headers seen.
async fn echo_instance(world: &World) -> (Arc<Mutex<Vec<HeaderMap>>>, SocketAddr, Instance) {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let echo = {
        let seen = seen.clone();
        axum::Router::new().fallback(move |request: Request<Body>| {
            let seen = seen.clone();
            async move {
                seen.lock().expect("lock").push(request.headers().clone());
                axum::http::Response::new(Body::new(request.into_body()))
            }
        })
    };
    let echo = spawn_upstream(echo).await;
    let instance = world
        .instance_at("ins_echo", "starter", "ready", &format!("http://{echo}"))
        .await;
    (seen, echo, instance)
}

#[tokio::test]
async fn gateway_streams_bodies_both_ways_without_buffering() {
    let world = World::new().await;
    let (_seen, _echo, instance) = echo_instance(&world).await;
    let publishable = world.key(&instance, "publishable", None).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<ChannelBody>();
    let (chunks, body) = tokio::sync::mpsc::channel::<Bytes>(4);
    let request = Request::post(format!("{}/v1/echo?x=1", world.url))
        .header("x-authstack-key", &publishable.key)
        .header("x-request-id", "test-request-1")
        .body(ChannelBody(body))
        .expect("request");

    const CHUNK: usize = 64 * 1024;
    const TOTAL: usize = 5 * 1024 * 1024;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    let exchange = async {
        let first = Bytes::copy_from_slice(&data[..CHUNK]);
        chunks.send(first).await.expect("first chunk");
        let response = client.request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-request-id"], "test-request-1");
        let mut body = response.into_body();
        // The first chunk comes back before the rest is sent: neither side is buffered.
        let mut received = Vec::with_capacity(TOTAL);
        while received.len() < CHUNK {
            let frame = body.frame().await.expect("a frame").expect("data");
            if let Ok(data) = frame.into_data() {
                received.extend_from_slice(&data);
            }
        }
        let sender = async {
            for chunk in data[CHUNK..].chunks(CHUNK) {
                let chunk = Bytes::copy_from_slice(chunk);
                chunks.send(chunk).await.expect("chunk");
            }
            drop(chunks);
        };
        let receiver = async {
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.expect("frame").into_data() {
                    received.extend_from_slice(&data);
                }
            }
        };
        tokio::join!(sender, receiver);
        received
    };
    let received = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the bodies stream (a buffering gateway would deadlock here)");
    assert_eq!(received.len(), TOTAL);
    assert_eq!(Sha256::digest(&received), Sha256::digest(&data));
}

#[tokio::test]
async fn gateway_forwards_the_callers_headers_and_sets_its_own() {
    let world = World::new().await;
    let (seen, echo, instance) = echo_instance(&world).await;
    let publishable = world.key(&instance, "publishable", None).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<ChannelBody>();
    // An empty body: the sender is gone at once.
    let (_, body) = tokio::sync::mpsc::channel::<Bytes>(1);
    let request = Request::post(format!("{}/v1/echo?x=1", world.url))
        .header("x-authstack-key", &publishable.key)
        .header("x-authstack-gateway", "forged")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-request-id", "test-request-1")
        .header("authorization", "Bearer end-user-jwt")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "1")
        .body(ChannelBody(body))
        .expect("request");
    let response = client.request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);

    let headers = seen.lock().expect("lock").remove(0);
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().expect("text").to_owned())
    };
    assert_eq!(header("x-authstack-key"), None);
    let gateway_secret = instance.secrets.gateway_secret.expose_secret();
    assert_eq!(
        header("x-authstack-gateway").as_deref(),
        Some(gateway_secret)
    );
    assert_eq!(header("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    assert_eq!(header("x-forwarded-proto").as_deref(), Some("http"));
    let gateway = world.gateway.addr.to_string();
    assert_eq!(header("x-forwarded-host"), Some(gateway));
    assert_eq!(header("x-request-id").as_deref(), Some("test-request-1"));
    let authorization = header("authorization");
    assert_eq!(authorization.as_deref(), Some("Bearer end-user-jwt"));
    assert_eq!(header("x-drop-me"), None);
    assert_eq!(header("host"), Some(echo.to_string()));
}

/// A secret key is exchanged for the instance's admin key; a request id is made up.
#[tokio::test]
async fn gateway_exchanges_a_secret_key_for_the_admin_key() {
    let world = World::new().await;
    let (seen, _echo, instance) = echo_instance(&world).await;
    let secret = world.key(&instance, "secret", None).await;
    let response = world
        .post("/v1/admin/users")
        .bearer_auth(&secret.key)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(request_id.len(), 36);
    let headers = seen.lock().expect("lock").remove(0);
    assert_eq!(
        headers["authorization"].to_str().expect("text"),
        format!("Bearer {}", instance.secrets.admin_key.expose_secret())
    );
    assert_eq!(headers["x-request-id"].to_str().expect("text"), request_id);
}

#[tokio::test]
async fn gateway_metrics_list_requests_by_key() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let key = world.key(&live, "publishable", None).await;
    let response = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &key.key)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);

    let health = world.get("/_authstack/healthz").send().await.expect("send");
    assert_eq!(health.status(), StatusCode::OK);
    let anonymous = world.get("/_authstack/metrics").send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    authstack_control_plane::meta::set(
        &world.db,
        authstack_control_plane::meta::Key::OpsKeyHash,
        &authstack_instance::crypto::sha256_hex("ask_ops_metrics_reader"),
    )
    .await
    .expect("operator key");
    let metrics = world
        .get("/_authstack/metrics")
        .bearer_auth("ask_ops_metrics_reader")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let line = metrics
        .lines()
        .find(|line| {
            line.starts_with("authstack_gateway_requests_total")
                && line.contains(&format!("key_id=\"{}\"", key.id))
        })
        .unwrap_or_else(|| panic!("no request line for the key in:\n{metrics}"));
    assert!(
        line.contains(&format!("instance_id=\"{}\"", live.id)),
        "{line}"
    );
    assert!(line.contains("status=\"200\""), "{line}");
    assert!(metrics.contains("authstack_gateway_request_duration_seconds"));
}
