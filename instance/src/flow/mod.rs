//! The sign-in flow: one server-side state machine that every hosted sign-in goes through, so
//! that no method can skip a policy. A flow is started by a request that needs a signed-in user
//! (an OpenID Connect authorization request), driven by the hosted pages, and ends in a session:
//!
//! ```text
//! FirstFactor --(a FirstFactor verifies the user)--> Policies --(every Policy satisfied)--> Complete
//! FirstFactor --(a sign-up creates the user)--------^
//! FirstFactor --(a sign-up mailed a verification link)--> FirstFactor (address filled in)
//! ChooseOrganization --(the user picks one, or continues without)--> Complete
//! Consent --(the user answers)--> Complete
//! ```
//!
//! A starter that needs more from the signed-in user starts a further flow for it once the
//! first completes, or at once when the user was already signed in: the OpenID Provider asks
//! for one of the user's organizations (`ChooseOrganization`, when the application selects
//! organizations), then for a third-party application's approval (`Consent`). Both come after
//! the policies, so only a user who may sign in sees their organizations.
//!
//! A flow lives 15 minutes; its id (256 random bits) is a bearer secret in the page's URL and is
//! stored only as its SHA-256; the CSRF token that the pages' cookie and forms carry is derived
//! from it ([`csrf_token`]). Methods plug in as [`factors::FirstFactor`]s, requirements as [`policies::Policy`]s;
//! see docs/architecture.md, "The sign-in flow: adding a method".

pub mod factors;
mod password;
pub mod policies;
mod store;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::signup::{self, SignUp, SignedUp};
use crate::clock::UnixTime;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::crypto::{constant_time_eq, random_secret, sha256_hex};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::sessions::{self, Session};
use crate::users::{EmailAddress, User, store as users};

use factors::{FirstFactor, Submission};
use policies::{POLICIES, Verdict};

/// How long a started flow can be completed.
pub const FLOW_TTL_SECS: i64 = 15 * 60;
const FLOW_ID_PREFIX: &str = "flw_";
const CSRF_PREFIX: &str = "csrf_";

/// Where a flow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum State {
    /// Waiting for the user to prove who they are.
    FirstFactor {
        /// Who the starter expects (`login_hint`), to prefill the page.
        #[serde(default)]
        login_hint: Option<String>,
    },
    /// The user is known; the policies decide whether the flow may complete.
    Policies { user_id: String, amr: Vec<String> },
    /// The user is signed in (this session); the starter asks them to approve its request —
    /// a third-party application's access — before it completes.
    Consent { session_id: String },
    /// The user is signed in (this session); the starter asks them which of their
    /// organizations to sign in to before it goes on.
    ChooseOrganization { session_id: String },
    /// Done: the flow produced this session and cannot be used again.
    Complete { session_id: String },
}

/// A sign-in flow as stored.
#[derive(Clone)]
pub struct Flow {
    pub id_hash: String,
    /// What the starter resumes once the flow completes (an authorization request), opaque
    /// to the flow.
    pub request: serde_json::Value,
    pub state: State,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("state", &self.state)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Flow {
    /// The address the sign-in pages fill in while the flow waits for its first factor: the
    /// starter's `login_hint`, or the address a sign-up mailed.
    pub fn login_hint(&self) -> Option<&str> {
        match &self.state {
            State::FirstFactor { login_hint } => login_hint.as_deref(),
            _ => None,
        }
    }
}

/// A flow that completed: its session and the request that started it.
#[derive(Debug)]
pub struct Completed {
    pub session: Session,
    pub user: User,
    pub request: serde_json::Value,
}

/// Starts a flow for `request`; returns its id (the page's `flow` parameter), shown once.
pub async fn start(
    app: &AppState,
    request: serde_json::Value,
    login_hint: Option<String>,
) -> Result<SecretString> {
    insert_new(app, request, State::FirstFactor { login_hint }).await
}

async fn insert_new(
    app: &AppState,
    request: serde_json::Value,
    state: State,
) -> Result<SecretString> {
    let id = random_secret(FLOW_ID_PREFIX, 32);
    let now = app.clock.now();
    let flow = Flow {
        id_hash: sha256_hex(id.expose_secret()),
        request,
        state,
        created_at: now,
        expires_at: now + FLOW_TTL_SECS,
    };
    store::insert(&app.db, &flow).await?;
    Ok(id)
}

/// Starts a flow at a step after sign-in (`Consent`, `ChooseOrganization`); returns its id.
pub async fn start_step(
    app: &AppState,
    request: serde_json::Value,
    step: State,
) -> Result<SecretString> {
    insert_new(app, request, step).await
}

/// Completes a flow waiting at a step after sign-in, whatever the user answered there.
pub async fn finish_step(app: &AppState, flow: &mut Flow) -> Result<()> {
    let (State::Consent { session_id } | State::ChooseOrganization { session_id }) =
        flow.state.clone()
    else {
        return Err(Error::invalid("this sign-in step is not due"));
    };
    advance(app, flow, State::Complete { session_id }).await
}

/// The live flow with `id`, if any (unknown, expired and completed flows are all `None`).
pub async fn load(app: &AppState, id: &str) -> Result<Option<Flow>> {
    if !id.starts_with(FLOW_ID_PREFIX) || id.len() > 100 {
        return Ok(None);
    }
    let now = app.clock.now();
    Ok(store::find(&app.db, &sha256_hex(id))
        .await?
        .filter(|f| f.expires_at > now && !matches!(f.state, State::Complete { .. })))
}

/// The CSRF token of the flow whose id is `flow_id`, for its forms' hidden field and cookie.
/// It is derived from the id, a 256-bit secret that only the flow's browser holds, so every
/// page of the flow shows the same token and showing one writes nothing; what defeats a
/// cross-site form is the cookie, which another site can neither read nor set.
pub fn csrf_token(flow_id: &str) -> SecretString {
    let digest = Sha256::digest(format!("authstack sign-in flow csrf\0{flow_id}").as_bytes());
    SecretString::from(format!("{CSRF_PREFIX}{}", URL_SAFE_NO_PAD.encode(digest)))
}

/// Whether a form submission for the flow `flow_id` carries its CSRF token both in its cookie
/// and its hidden field (each compared in constant time).
pub fn csrf_matches(flow_id: &str, cookie: Option<&str>, field: &str) -> bool {
    let Some(cookie) = cookie else {
        return false;
    };
    let expected = csrf_token(flow_id);
    constant_time_eq(cookie.as_bytes(), field.as_bytes())
        && constant_time_eq(cookie.as_bytes(), expected.expose_secret().as_bytes())
}

/// Runs the first factor `method` on `submission`, then the policies; on success the flow is
/// complete and a session has started.
pub async fn submit_first_factor(
    app: &AppState,
    flow: &mut Flow,
    method: &str,
    submission: &Submission,
    client: &Client,
) -> Result<Completed> {
    if !matches!(flow.state, State::FirstFactor { .. }) {
        return Err(Error::invalid("this sign-in step is already done"));
    }
    let factor = factors::find(app, method).ok_or(Error::Refused(
        "method_disabled",
        "this sign-in method is turned off".into(),
    ))?;
    let user = factor.verify(app, submission, client).await?;
    proven(app, flow, factor, user, client).await
}

/// `factor` proved the user: the flow moves to the policies and runs them.
async fn proven(
    app: &AppState,
    flow: &mut Flow,
    factor: &dyn FirstFactor,
    user: User,
    client: &Client,
) -> Result<Completed> {
    advance(
        app,
        flow,
        State::Policies {
            user_id: user.id.clone(),
            amr: vec![factor.amr().to_owned()],
        },
    )
    .await?;
    run_policies(app, flow, factor, user, client).await
}

/// How a sign-up inside a flow ended.
#[derive(Debug)]
pub enum SignUpStep {
    /// The new user is signed in (every policy passed): the flow is complete.
    Completed(Box<Completed>),
    /// A mail is on its way (see [`SignedUp::VerificationPending`]); the flow waits at its
    /// first factor with the address filled in, for the sign-in once the link was opened.
    VerificationSent { email: EmailAddress },
}

/// Creates an account as the flow's first step: a new user has proven nothing but the password
/// they just chose, so the flow goes on exactly as after a password sign-in (the same amr, the
/// same policies).
pub async fn submit_sign_up(
    app: &AppState,
    flow: &mut Flow,
    request: &SignUp,
    client: &Client,
) -> Result<SignUpStep> {
    if !matches!(flow.state, State::FirstFactor { .. }) {
        return Err(Error::invalid("this sign-in step is already done"));
    }
    match signup::sign_up(app, request, client).await? {
        SignedUp::Created(user) => {
            let done = proven(app, flow, &password::Password, *user, client).await?;
            Ok(SignUpStep::Completed(Box::new(done)))
        }
        SignedUp::VerificationPending { email } => {
            let next = State::FirstFactor {
                login_hint: Some(email.as_str().to_owned()),
            };
            advance(app, flow, next).await?;
            Ok(SignUpStep::VerificationSent { email })
        }
    }
}

async fn run_policies(
    app: &AppState,
    flow: &mut Flow,
    factor: &dyn FirstFactor,
    user: User,
    client: &Client,
) -> Result<Completed> {
    let State::Policies { user_id, amr } = flow.state.clone() else {
        return Err(Error::invalid("this sign-in step is not due"));
    };
    let user = if user.id == user_id {
        user
    } else {
        users::find(&app.db, &user_id)
            .await?
            .ok_or(Error::InvalidCredentials)?
    };
    for policy in POLICIES {
        match policy.check(app, &user, &amr).await? {
            Verdict::Satisfied => {}
            Verdict::Refused(err) => {
                store::delete(&app.db, &flow.id_hash).await?;
                return Err(err);
            }
            Verdict::Step(step) => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "policy {} asks for step {step}, which no page offers yet",
                    policy.name()
                )));
            }
        }
    }
    let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
    let session = sessions::begin(app, &user, &amr, client).await?;
    factor.completed(app, &user, client).await?;
    advance(
        app,
        flow,
        State::Complete {
            session_id: session.id.clone(),
        },
    )
    .await?;
    Ok(Completed {
        session,
        user,
        request: flow.request.clone(),
    })
}

/// Moves the flow to `next`, if it is still where this request found it (a concurrent submit
/// of the same flow loses).
async fn advance(app: &AppState, flow: &mut Flow, next: State) -> Result<()> {
    if !store::transition(&app.db, &flow.id_hash, &flow.state, &next).await? {
        return Err(Error::invalid(
            "this sign-in was completed or changed meanwhile",
        ));
    }
    flow.state = next;
    Ok(())
}

/// Drops the flows that expired by `now` (run by the instance's minute sweep).
pub async fn delete_expired(db: &crate::db::Db, now: UnixTime) -> sqlx::Result<u64> {
    store::delete_expired(db, now).await
}
