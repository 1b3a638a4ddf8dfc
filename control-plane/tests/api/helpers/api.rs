//! Typed requests to the control-plane API: one method per verb on [`TestPlatform`], the paths
//! of an [`Owner`]'s account and instances, and the calls many test files make (revisions,
//! deploys, the audit log), so that a test reads as the steps it takes.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Owner, Reply, TestPlatform};

impl Owner {
    /// `/v1/accounts/{account}` followed by `rest`.
    pub fn account(&self, rest: &str) -> String {
        format!("/v1/accounts/{}{rest}", self.account_id)
    }

    /// `/v1/accounts/{account}/instances/{environment}` followed by `rest`.
    pub fn instance(&self, environment: &str, rest: &str) -> String {
        format!(
            "/v1/accounts/{}/instances/{environment}{rest}",
            self.account_id
        )
    }
}

impl TestPlatform {
    /// `GET path` on the control plane as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.cp(Method::GET, path, token, None).await
    }

    /// `POST path` with a JSON `body` as `token`.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.cp(Method::POST, path, token, Some(body)).await
    }

    /// `POST path` without a body as `token`.
    pub async fn post_empty(&self, path: &str, token: &str) -> Reply {
        self.cp(Method::POST, path, token, None).await
    }

    /// `PUT path` with a JSON `body` as `token`.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.cp(Method::PUT, path, token, Some(body)).await
    }

    /// `PATCH path` with a JSON `body` as `token`.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.cp(Method::PATCH, path, token, Some(body)).await
    }

    /// `DELETE path` as `token`.
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.cp(Method::DELETE, path, token, None).await
    }

    /// The revisions of the owner's `environment` instance (newest first).
    pub async fn revisions(&self, owner: &Owner, environment: &str) -> Reply {
        let reply = self
            .get(&owner.instance(environment, "/revisions"), &owner.token)
            .await;
        reply.assert_ok(200);
        reply
    }

    /// Creates a revision of the owner's `environment` instance from a JSON `patch` and returns
    /// its number.
    pub async fn create_revision(
        &self,
        owner: &Owner,
        environment: &str,
        patch: Value,
        summary: &str,
    ) -> i64 {
        let created = self
            .post(
                &owner.instance(environment, "/revisions"),
                &owner.token,
                json!({ "patch": patch, "summary": summary }),
            )
            .await;
        created.assert_ok(201);
        created.body["revision"]["number"].as_i64().expect("number")
    }

    /// Deploys revision `number` and waits for its outcome.
    pub async fn deploy(&self, owner: &Owner, environment: &str, number: i64) -> Reply {
        let path = format!("/revisions/{number}/deploy?wait=true");
        self.post_empty(&owner.instance(environment, &path), &owner.token)
            .await
    }

    /// Rolls back to the previous healthy revision and waits for the outcome.
    pub async fn rollback(&self, owner: &Owner, environment: &str) -> Reply {
        self.post_empty(
            &owner.instance(environment, "/rollback?wait=true"),
            &owner.token,
        )
        .await
    }

    /// The actions of the account's audit log, newest first.
    pub async fn audit_actions(&self, owner: &Owner) -> Vec<String> {
        let audit = self.get(&owner.account("/audit-logs"), &owner.token).await;
        audit.assert_ok(200);
        audit.body["data"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["action"].as_str().map(str::to_owned))
            .collect()
    }

    /// An end user's signup through the gateway with a publishable `key`.
    pub async fn sign_up_user(&self, key: &str, email: &str, password: &str) -> Reply {
        self.via_key(
            Method::POST,
            "/v1/auth/signup",
            key,
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    /// The instance's public configuration through the gateway.
    pub async fn public_config(&self, key: &str) -> Reply {
        let reply = self
            .via_key(Method::GET, "/v1/config/public", key, None, None)
            .await;
        reply.assert_ok(200);
        reply
    }
}
