//! Where instances run. A [`Provisioner`] makes one instance run a given spec, stops it, or
//! deletes it; the control plane decides when (see `instances::reconcile`). The local
//! provisioner runs instances as supervised processes on this machine; the Kubernetes
//! provisioner writes `AuthStackInstance` resources that the operator reconciles.

pub mod kubernetes;
pub mod local;

use std::fmt;

use authstack_instance::config::InstanceConfig;
use authstack_instance::crypto::MasterKey;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::catalog::Capacity;

/// Which of a customer's two instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    pub fn parse(raw: &str) -> Option<Environment> {
        match raw {
            "live" => Some(Environment::Live),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The secrets an instance is started with. The control plane generates them at creation and
/// keeps them sealed under its master key.
#[derive(Clone)]
pub struct InstanceSecrets {
    /// Proves a request came through the gateway (`X-AuthStack-Gateway`).
    pub gateway_secret: SecretString,
    /// The instance's `ask_admin_…` key; the gateway presents it for secret-key calls.
    pub admin_key: SecretString,
    /// Base64 of 32 bytes: the instance's own master key (seals its signing keys).
    pub master_key: SecretString,
}

impl fmt::Debug for InstanceSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstanceSecrets(..)")
    }
}

/// The sealed form's plaintext.
#[derive(Serialize, Deserialize)]
struct SecretsDocument {
    gateway_secret: String,
    admin_key: String,
    master_key: String,
}

impl InstanceSecrets {
    /// Encrypts the secrets under the control plane's master key, bound to the instance id.
    pub fn seal(&self, master: &MasterKey, instance_id: &str) -> anyhow::Result<String> {
        let document = SecretsDocument {
            gateway_secret: self.gateway_secret.expose_secret().to_owned(),
            admin_key: self.admin_key.expose_secret().to_owned(),
            master_key: self.master_key.expose_secret().to_owned(),
        };
        master.seal(&serde_json::to_vec(&document)?, instance_id)
    }

    /// Decrypts what [`InstanceSecrets::seal`] produced for `instance_id`.
    pub fn open(sealed: &str, master: &MasterKey, instance_id: &str) -> anyhow::Result<Self> {
        let document: SecretsDocument = serde_json::from_slice(&master.open(sealed, instance_id)?)?;
        Ok(InstanceSecrets {
            gateway_secret: SecretString::from(document.gateway_secret),
            admin_key: SecretString::from(document.admin_key),
            master_key: SecretString::from(document.master_key),
        })
    }

    pub fn generate() -> InstanceSecrets {
        use authstack_instance::crypto::random_secret;
        use base64::Engine;
        use rand::RngCore;
        let mut master = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut master);
        InstanceSecrets {
            gateway_secret: random_secret("asg_", 32),
            admin_key: random_secret("ask_admin_", 32),
            master_key: SecretString::from(
                base64::engine::general_purpose::STANDARD.encode(master),
            ),
        }
    }
}

/// Everything a provisioner needs to run one instance.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// `ins_…`; also the instance's `aud` claim.
    pub id: String,
    /// The customer account that owns it; `None` for the platform instance.
    pub account_id: Option<String>,
    pub environment: Environment,
    pub region: String,
    /// The `iss` claim and public base URL the instance announces: its address on the
    /// gateway, `{gateway}/i/{id}`, or its verified custom domain.
    pub issuer: String,
    /// Earlier issuers whose unexpired tokens the instance still accepts.
    pub previous_issuers: Vec<String>,
    /// The instance's verified custom domain, if any. The gateway routes it by `Host`; in a
    /// cluster, the Kubernetes provisioner also hands it to the operator, whose Ingress (TLS
    /// from cert-manager) leads it to the gateway.
    pub hostnames: Vec<String>,
    /// The configuration revision this spec carries.
    pub revision: i64,
    pub config: InstanceConfig,
    pub secrets: InstanceSecrets,
    /// How big it runs, from its plan (where the provisioner sizes instances).
    pub capacity: Capacity,
    /// How long its plan keeps configuration history, in days.
    pub version_history_days: u32,
    /// Where the instance mails its owner about its operation (`AUTHSTACK_NOTIFY_EMAIL`): the
    /// address of the member who created the account. The local provisioner passes it; the
    /// Kubernetes one does not yet.
    pub notify_email: Option<String>,
}

impl InstanceSpec {
    pub fn instance_ref(&self) -> InstanceRef {
        InstanceRef::new(&self.id, self.account_id.as_deref())
    }
}

/// The instance a [`Provisioner::suspend`] or [`Provisioner::delete`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRef {
    /// `ins_…`.
    pub id: String,
    /// The customer account that owns it; `None` for the platform instance. (The Kubernetes
    /// provisioner keeps an account's instances in the account's namespace.)
    pub account_id: Option<String>,
}

impl InstanceRef {
    pub fn new(id: &str, account_id: Option<&str>) -> InstanceRef {
        InstanceRef {
            id: id.to_owned(),
            account_id: account_id.map(str::to_owned),
        }
    }
}

/// Receives the steps of a [`Provisioner::apply`] as they happen ("namespace ready", "rolling
/// out revision 3"); the control plane appends them to the instance's progress view.
#[async_trait::async_trait]
pub trait Progress: Send + Sync {
    async fn step(&self, step: &str, detail: Option<&str>);
}

/// Progress that nobody follows.
pub struct NoProgress;

#[async_trait::async_trait]
impl Progress for NoProgress {
    async fn step(&self, _step: &str, _detail: Option<&str>) {}
}

/// What a provisioner reports about an instance on its own (crashes, restarts), as opposed to
/// the answers of its methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The instance answered its readiness probe again, e.g. after a restart.
    Ready { instance_id: String },
    /// The instance stopped unexpectedly; the provisioner (or its cluster) is restarting it.
    Crashed { instance_id: String, detail: String },
    /// The provisioner gave up restarting it, or its cluster reports it failed.
    Failed { instance_id: String, detail: String },
}

/// Runs instances somewhere. Every method is idempotent: `apply` on a running instance with the
/// same spec returns at once; `suspend` on a stopped one and `delete` on a deleted one succeed.
#[async_trait::async_trait]
pub trait Provisioner: Send + Sync + 'static {
    /// Creates, updates or resumes the instance so that it runs `spec`, and returns its
    /// endpoint (the base URL the gateway forwards to) once it answers its readiness probe.
    /// Steps worth showing on the way go to `progress`.
    async fn apply(&self, spec: &InstanceSpec, progress: &dyn Progress) -> anyhow::Result<String>;
    /// Stops the instance, keeping its data.
    async fn suspend(&self, instance: &InstanceRef) -> anyhow::Result<()>;
    /// Stops the instance and deletes its data.
    async fn delete(&self, instance: &InstanceRef) -> anyhow::Result<()>;
    /// Starts reporting what the provisioner observes on its own to `events`. The control
    /// plane calls it once per provisioner at start; by default nothing is observed (the local
    /// provisioner takes its sender at construction).
    fn observe(&self, events: UnboundedSender<Event>) {
        let _ = events;
    }
    /// Called once when the control plane shuts down.
    async fn shutdown(&self);
}
