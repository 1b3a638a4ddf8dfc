//! The LLM planner: asks any OpenAI-compatible chat completions endpoint for a configuration
//! patch. The model is told the configuration's shape and the current document and must answer
//! with one JSON object, `{"patch": [RFC 6902 operations], "summary": "..."}` or
//! `{"unsupported": "..."}`.
//!
//! The answer is data, never instructions: anything that is not exactly that object (prose, a
//! markdown code block, unknown keys), operations that do not apply, a result that does not
//! validate, or values that look like code are rejected with a [`Rejected`] error; nothing is
//! applied partially. The security notes come from [`security::notes`], not from the model.
//!
//! [`security::notes`]: crate::revisions::security::notes

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{LlmSettings, PlanContext, Planned, Planner, Proposal, describe};

/// How long one call to the model may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of an answer read: a configuration patch is small.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const MAX_OPERATIONS: usize = 100;
const MAX_VALUE_CHARS: usize = 2048;
const MAX_SUMMARY_CHARS: usize = 2000;

/// The model's answer was not an acceptable plan (it is never applied).
#[derive(Debug, thiserror::Error)]
#[error("the model's answer was rejected: {0}")]
pub struct Rejected(pub String);

/// The LLM planner (see the module documentation).
pub struct LlmPlanner {
    settings: LlmSettings,
    endpoint: String,
    http: reqwest::Client,
    /// The JSON Schema of `InstanceConfig`, when the caller has it.
    schema: Option<String>,
}

impl std::fmt::Debug for LlmPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmPlanner")
            .field("settings", &self.settings)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl LlmPlanner {
    pub fn new(settings: LlmSettings) -> anyhow::Result<Self> {
        Self::with_timeout(settings, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(settings: LlmSettings, timeout: Duration) -> anyhow::Result<Self> {
        let base = settings.base_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            anyhow::bail!(
                "the llm planner's base URL must be http(s)://..., not {:?}",
                settings.base_url
            );
        }
        // reqwest is built without a default TLS provider; installing one is a no-op when the
        // process already has one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| anyhow::anyhow!("the HTTP client for the llm planner: {e}"))?;
        Ok(LlmPlanner {
            endpoint: format!("{base}/chat/completions"),
            settings,
            http,
            schema: None,
        })
    }

    /// Gives the model the configuration's JSON Schema (`authstack-instance config-schema`)
    /// besides the current document.
    pub fn with_schema(mut self, schema: String) -> Self {
        self.schema = Some(schema);
        self
    }

    fn system_prompt(&self, context: &PlanContext<'_>) -> anyhow::Result<String> {
        let current = serde_json::to_string_pretty(context.current)?;
        let schema = match &self.schema {
            Some(schema) => format!("The configuration's JSON Schema:\n{schema}\n\n"),
            None => String::new(),
        };
        Ok(format!(
            "You change the configuration of an AuthStack authentication instance. The \
             customer asks for a change in plain language; you answer with a JSON Patch \
             (RFC 6902) against the current configuration document.\n\n\
             {schema}The current configuration (every field is present; unknown fields are \
             rejected):\n{current}\n\n\
             The account's plan: {plan}. SAML needs the enterprise plan.\n\n\
             Answer with ONLY one JSON object, no prose and no markdown, either\n\
             {{\"patch\": [{{\"op\": \"replace\", \"path\": \"/auth/mfa/mode\", \"value\": \
             \"required\"}}], \"summary\": \"one or two plain sentences for the customer\"}}\n\
             or, when the request cannot be expressed as a change of this configuration,\n\
             {{\"unsupported\": \"what you cannot do and why\"}}.\n\
             Never answer with code, scripts or HTML: only configuration values.",
            plan = context.plan,
        ))
    }

    async fn ask(&self, body: &Value) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.post(&self.endpoint).json(body);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        request.send().await.map_err(|e| {
            if e.is_timeout() {
                anyhow::anyhow!("the model did not answer in time ({})", self.endpoint)
            } else {
                anyhow::anyhow!("cannot reach the model at {}: {e}", self.endpoint)
            }
        })
    }

    /// The assistant's message content of a chat completion.
    async fn complete(&self, prompt: &str, context: &PlanContext<'_>) -> anyhow::Result<String> {
        let mut body = json!({
            "model": self.settings.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": self.system_prompt(context)?},
                {"role": "user", "content": prompt},
            ],
        });
        let mut response = self.ask(&body).await?;
        if response.status() == reqwest::StatusCode::BAD_REQUEST {
            let text = read_text(response).await?;
            // Servers without JSON mode refuse the field: ask again without it.
            if !text.contains("response_format") {
                anyhow::bail!("the model refused the request (400): {}", excerpt(&text));
            }
            if let Some(object) = body.as_object_mut() {
                object.remove("response_format");
            }
            response = self.ask(&body).await?;
        }
        let status = response.status();
        let text = read_text(response).await?;
        if !status.is_success() {
            anyhow::bail!("the model answered {status}: {}", excerpt(&text));
        }
        let completion: Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the model's endpoint did not answer JSON: {e}"))?;
        completion
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("the model's answer has no choices[0].message.content"))
    }
}

async fn read_text(response: reqwest::Response) -> anyhow::Result<String> {
    let bytes = response.bytes().await.map_err(|e| {
        if e.is_timeout() {
            anyhow::anyhow!("the model did not answer in time")
        } else {
            anyhow::anyhow!("cannot read the model's answer: {e}")
        }
    })?;
    if bytes.len() > 16 * MAX_ANSWER_BYTES {
        anyhow::bail!("the model's answer is too large ({} bytes)", bytes.len());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[async_trait::async_trait]
impl Planner for LlmPlanner {
    fn name(&self) -> &'static str {
        "llm"
    }

    async fn plan(&self, prompt: &str, context: &PlanContext<'_>) -> anyhow::Result<Planned> {
        let content = self.complete(prompt, context).await?;
        Ok(check_answer(&content, context)?)
    }
}

/// Turns the model's message into a plan, or rejects it.
pub fn check_answer(content: &str, context: &PlanContext<'_>) -> Result<Planned, Rejected> {
    let reject = |why: String| Rejected(why);
    if content.len() > MAX_ANSWER_BYTES {
        return Err(reject(format!("it is too long ({} bytes)", content.len())));
    }
    if content.contains("```") {
        return Err(reject(
            "it contains a code block; only a bare JSON object is accepted".into(),
        ));
    }
    let answer: Value = serde_json::from_str(content.trim()).map_err(|e| {
        reject(format!(
            "it is not a JSON object ({e}): {}",
            excerpt(content)
        ))
    })?;
    let Value::Object(mut answer) = answer else {
        return Err(reject("it is JSON but not an object".into()));
    };
    if let Some(message) = answer.remove("unsupported") {
        if !answer.is_empty() {
            return Err(reject(
                "\"unsupported\" must be the only key of the answer".into(),
            ));
        }
        let message = prose(&message, "unsupported")?;
        return Ok(Planned::Unsupported { message });
    }
    let (Some(patch), Some(summary)) = (answer.remove("patch"), answer.remove("summary")) else {
        return Err(reject(
            "it must have \"patch\" and \"summary\" (or only \"unsupported\")".into(),
        ));
    };
    if let Some(key) = answer.keys().next() {
        return Err(reject(format!("unexpected key {key:?}")));
    }
    let summary = prose(&summary, "summary")?;
    let Value::Array(operations) = &patch else {
        return Err(reject("\"patch\" must be an array of operations".into()));
    };
    if operations.is_empty() {
        return Err(reject(
            "the patch is empty; answer \"unsupported\" when nothing should change".into(),
        ));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(reject(format!(
            "the patch has {} operations (at most {MAX_OPERATIONS})",
            operations.len()
        )));
    }
    for (i, operation) in operations.iter().enumerate() {
        if let Some(value) = operation.get("value") {
            check_value(value)
                .map_err(|why| reject(format!("operation {} sets a value that {why}", i + 1)))?;
        }
    }
    let patch: json_patch::Patch = serde_json::from_value(patch)
        .map_err(|e| reject(format!("the patch is not RFC 6902 operations: {e}")))?;
    Proposal::checked(context.current, patch, summary, Vec::new())
        .map(Planned::Proposal)
        .map_err(|errors| {
            reject(format!(
                "the patch does not give a valid configuration: {}",
                describe(&errors)
            ))
        })
}

/// A short plain-language string for the customer.
fn prose(value: &Value, key: &str) -> Result<String, Rejected> {
    let Some(text) = value.as_str().map(str::trim) else {
        return Err(Rejected(format!("\"{key}\" must be a string")));
    };
    if text.is_empty() || text.chars().count() > MAX_SUMMARY_CHARS {
        return Err(Rejected(format!(
            "\"{key}\" must have 1 to {MAX_SUMMARY_CHARS} characters"
        )));
    }
    if looks_like_code(text) {
        return Err(Rejected(format!("\"{key}\" looks like code")));
    }
    Ok(text.to_owned())
}

/// Configuration values are short strings, numbers, booleans and lists of them: refuse
/// anything that looks like code (a script, a shell command, a template).
pub(super) fn check_value(value: &Value) -> Result<(), String> {
    match value {
        Value::String(text) => {
            if text.chars().count() > MAX_VALUE_CHARS {
                Err(format!("is longer than {MAX_VALUE_CHARS} characters"))
            } else if looks_like_code(text) {
                Err(format!("looks like code ({})", excerpt(text)))
            } else {
                Ok(())
            }
        }
        Value::Array(items) => items.iter().try_for_each(check_value),
        Value::Object(fields) => fields.values().try_for_each(check_value),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn looks_like_code(text: &str) -> bool {
    let lower = text.to_lowercase();
    const SIGNS: &[&str] = &[
        "```",
        "<script",
        "</",
        "/>",
        "javascript:",
        "data:text/html",
        "<?php",
        "#!/",
        "${",
        "$(",
        "{{",
        "eval(",
        "exec(",
        "system(",
        "function(",
        "function ",
        "=> {",
        "require(",
        "import(",
        "console.",
        "document.",
        "window.",
        "process.env",
        "os.system",
        "subprocess",
        "__import__",
        "fn main",
        "; rm ",
        "&& ",
        "| sh",
        "| bash",
        "drop table",
    ];
    SIGNS.iter().any(|sign| lower.contains(sign))
}

#[cfg(test)]
mod tests;
