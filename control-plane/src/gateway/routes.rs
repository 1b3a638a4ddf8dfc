//! The key → route cache: which instance an API key reaches, and everything about that instance
//! the gateway needs per request, read once from the database and kept until the control plane
//! records a route change.
//!
//! Entries are keyed by the SHA-256 of the presented key; unknown and revoked keys are cached
//! too (as `None`), so a client retrying a dead key does not reach the database each time.
//! Expiry (the rotation grace period) is not baked into the cache: it is checked per request.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use authstack_instance::clock::{Clock, UnixTime};
use authstack_instance::crypto::{MasterKey, sha256_hex};
use axum::http::HeaderValue;
use axum::http::uri::{Authority, PathAndQuery, Scheme, Uri};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::request_metrics::KeyMetrics;
use super::{changes, store};
use crate::catalog::Catalog;
use crate::db::Db;
use crate::provisioner::InstanceSecrets;

/// Requests per second per key when the instance's plan is not in the catalog.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 100;

/// Beyond this many cached keys the cache starts over, so that a flood of random keys cannot
/// grow it without bound.
const MAX_ENTRIES: usize = 100_000;

/// How a key may be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// In `X-AuthStack-Key`, from browsers and apps; the end user's own `Authorization` passes.
    Publishable,
    /// As `Authorization: Bearer`, from the customer's servers; reaches the admin API.
    Secret,
}

/// Everything the gateway needs to forward one key's requests.
pub struct Route {
    pub key_id: Arc<str>,
    pub kind: KeyKind,
    pub environment: String,
    /// End of the rotation grace period: the key works while `now < expires_at`.
    pub expires_at: Option<UnixTime>,
    pub instance_id: Arc<str>,
    /// The instance's state (`ready`, `updating`, `suspended`, ...).
    pub state: String,
    /// `None` when the instance's endpoint is not a usable `http://host:port[/base]` URL.
    pub upstream: Option<Upstream>,
    /// Lowercase `scheme://host[:port]` origins.
    pub allowed_origins: HashSet<String>,
    pub requests_per_second: u32,
    /// Present when the instance is serving.
    pub secrets: Option<RouteSecrets>,
    pub(crate) metrics: KeyMetrics,
    /// The last second this key's use was recorded (see `usage`), to record it once a second.
    pub(crate) last_recorded: AtomicI64,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("key_id", &self.key_id)
            .field("kind", &self.kind)
            .field("environment", &self.environment)
            .field("instance_id", &self.instance_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// Whether the key still works at `now` (rotation grace).
    pub fn is_current(&self, now: UnixTime) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }

    /// Whether the instance takes requests in its state.
    pub fn is_serving(&self) -> bool {
        matches!(self.state.as_str(), "ready" | "updating")
    }

    /// Whether a browser at `origin` may call this key's instance.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.contains(origin)
    }
}

/// The instance's secrets as the headers that carry them.
pub struct RouteSecrets {
    /// `X-AuthStack-Gateway`.
    pub gateway: HeaderValue,
    /// `Authorization: Bearer <admin key>`, for secret-key calls.
    pub admin_authorization: HeaderValue,
}

impl std::fmt::Debug for RouteSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteSecrets(..)")
    }
}

impl RouteSecrets {
    fn open(sealed: &str, master: &MasterKey, instance_id: &str) -> anyhow::Result<RouteSecrets> {
        let secrets = InstanceSecrets::open(sealed, master, instance_id)?;
        let mut gateway = HeaderValue::from_str(secrets.gateway_secret.expose_secret())
            .context("the gateway secret is not a valid header value")?;
        gateway.set_sensitive(true);
        let mut admin_authorization =
            HeaderValue::try_from(format!("Bearer {}", secrets.admin_key.expose_secret()))
                .context("the admin key is not a valid header value")?;
        admin_authorization.set_sensitive(true);
        Ok(RouteSecrets {
            gateway,
            admin_authorization,
        })
    }
}

/// Where an instance answers: `http://host:port` plus an optional base path.
#[derive(Debug, Clone)]
pub struct Upstream {
    authority: Authority,
    base_path: String,
}

impl Upstream {
    /// Parses an instance endpoint. Only plain HTTP: instances sit on a private network (or
    /// this machine) behind the gateway.
    pub fn parse(endpoint: &str) -> Option<Upstream> {
        let uri: Uri = endpoint.trim().parse().ok()?;
        if uri.scheme() != Some(&Scheme::HTTP) || uri.query().is_some() {
            return None;
        }
        Some(Upstream {
            authority: uri.authority()?.clone(),
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The upstream URI for a request's path and query.
    pub fn uri(&self, path_and_query: Option<&PathAndQuery>) -> Option<Uri> {
        let path_and_query = path_and_query.map_or("/", PathAndQuery::as_str);
        let path_and_query = if self.base_path.is_empty() {
            PathAndQuery::try_from(path_and_query).ok()?
        } else {
            PathAndQuery::try_from(format!("{}{path_and_query}", self.base_path)).ok()?
        };
        Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .ok()
    }
}

/// The caches, and what they are filled from.
pub struct Routes {
    db: Db,
    master: Arc<MasterKey>,
    catalog: Catalog,
    /// Bumped on every invalidation; a lookup that started before one does not store its result.
    generation: AtomicU64,
    entries: RwLock<HashMap<[u8; 32], Option<Arc<Route>>>>,
    /// Routes by instance id, for keyless requests under instances' public addresses.
    instances: RwLock<HashMap<String, Option<Arc<Route>>>>,
    /// Instance ids by verified custom domain (unknown hosts as `None`).
    domains: RwLock<HashMap<String, Option<Arc<str>>>>,
}

impl Routes {
    pub fn new(db: Db, master: Arc<MasterKey>, catalog: Catalog) -> Routes {
        Routes {
            db,
            master,
            catalog,
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
            instances: RwLock::new(HashMap::new()),
            domains: RwLock::new(HashMap::new()),
        }
    }

    /// The route of a presented key; `None` when the key is unknown or revoked.
    pub async fn lookup(&self, key: &str) -> anyhow::Result<Option<Arc<Route>>> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        if let Some(cached) = self
            .entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&digest)
        {
            return Ok(cached.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let route = self.load(&sha256_hex(key)).await?;
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(digest, route.clone());
        }
        Ok(route)
    }

    async fn load(&self, hash: &str) -> anyhow::Result<Option<Arc<Route>>> {
        let found = store::by_key_hash(&self.db, hash)
            .await
            .context("looking up an API key")?;
        let Some((key, instance)) = found else {
            return Ok(None);
        };
        let kind = match key.kind.as_str() {
            "publishable" => KeyKind::Publishable,
            "secret" => KeyKind::Secret,
            _ => return Ok(None),
        };
        if key.revoked_at.is_some() {
            return Ok(None);
        }
        self.route(
            instance,
            Arc::from(key.id),
            kind,
            key.environment,
            key.expires_at,
        )
        .map(|route| Some(Arc::new(route)))
    }

    /// The route to instance `instance_id` for requests under its public address that present
    /// no key (its discovery document and JWKS); `None` when there is no such instance.
    pub async fn lookup_instance(&self, instance_id: &str) -> anyhow::Result<Option<Arc<Route>>> {
        if let Some(cached) = self
            .instances
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(instance_id)
        {
            return Ok(cached.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let row = store::instance(&self.db, instance_id)
            .await
            .context("looking up an instance")?;
        let route = match row {
            Some(row) => {
                let environment = row.environment.clone();
                let key_id: Arc<str> = Arc::from(format!("address:{instance_id}"));
                Some(Arc::new(self.route(
                    row,
                    key_id,
                    KeyKind::Publishable,
                    environment,
                    None,
                )?))
            }
            None => None,
        };
        let mut instances = self
            .instances
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            if instances.len() >= MAX_ENTRIES {
                instances.clear();
            }
            instances.insert(instance_id.to_owned(), route.clone());
        }
        Ok(route)
    }

    /// The instance served at custom domain `host` (lowercase, no port): `None` unless the
    /// domain is verified, its instance not deleted and its plan includes custom domains.
    pub async fn lookup_domain(&self, host: &str) -> anyhow::Result<Option<Arc<str>>> {
        if let Some(cached) = self
            .domains
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(host)
        {
            return Ok(cached.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let found = store::instance_by_domain(&self.db, host)
            .await
            .context("looking up a custom domain")?;
        let instance_id = found
            .filter(|(_, plan)| {
                self.catalog
                    .plan(plan)
                    .is_some_and(|p| p.limits.custom_domain)
            })
            .map(|(instance_id, _)| Arc::<str>::from(instance_id));
        let mut domains = self
            .domains
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            if domains.len() >= MAX_ENTRIES {
                domains.clear();
            }
            domains.insert(host.to_owned(), instance_id.clone());
        }
        Ok(instance_id)
    }

    /// A route from a row with the instance's columns.
    fn route(
        &self,
        row: store::InstanceRow,
        key_id: Arc<str>,
        kind: KeyKind,
        environment: String,
        expires_at: Option<UnixTime>,
    ) -> anyhow::Result<Route> {
        let store::InstanceRow {
            instance_id,
            plan,
            state,
            endpoint,
            allowed_origins,
            secrets: sealed,
            ..
        } = row;
        let upstream = Upstream::parse(&endpoint);
        if upstream.is_none() {
            tracing::error!(%instance_id, %endpoint, "the instance's endpoint is not an http:// URL");
        }
        let instance_id: Arc<str> = Arc::from(instance_id);
        let mut route = Route {
            metrics: KeyMetrics::new(&instance_id, &key_id),
            key_id,
            kind,
            environment,
            expires_at,
            allowed_origins: parse_origins(&allowed_origins),
            requests_per_second: self
                .catalog
                .plan(&plan)
                .map_or(DEFAULT_REQUESTS_PER_SECOND, |p| {
                    p.limits.api_requests_per_second
                }),
            secrets: None,
            upstream,
            state,
            instance_id,
            last_recorded: AtomicI64::new(0),
        };
        if route.is_serving() {
            route.secrets = Some(
                RouteSecrets::open(&sealed, &self.master, &route.instance_id)
                    .with_context(|| format!("opening the secrets of {}", route.instance_id))?,
            );
        }
        Ok(route)
    }

    /// Drops every cached route.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        self.instances
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        self.domains
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Polls the route changes and invalidates the caches whenever they move, from `seen` on;
    /// reports what it applied as gateway `id` when it moves and every [`changes::HEARTBEAT`].
    pub async fn watch(&self, id: &str, clock: &Clock, mut seen: i64, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reported: Option<(i64, tokio::time::Instant)> = None;
        loop {
            tick.tick().await;
            match changes::latest(&self.db).await {
                Ok(latest) if latest != seen => {
                    tracing::debug!(latest, "route change; dropping cached routes");
                    self.invalidate();
                    seen = latest;
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "polling route changes failed"),
            }
            let due = reported.is_none_or(|(at_change, at)| {
                at_change != seen || at.elapsed() >= changes::HEARTBEAT
            });
            if due {
                match changes::acknowledge(&self.db, id, seen, clock.now()).await {
                    Ok(()) => reported = Some((seen, tokio::time::Instant::now())),
                    Err(err) => {
                        tracing::warn!(error = %err, "reporting the applied route change failed")
                    }
                }
            }
        }
    }
}

/// The `allowed_origins` JSON array, normalised to what browsers send.
fn parse_origins(json: &str) -> HashSet<String> {
    match serde_json::from_str::<Vec<String>>(json) {
        Ok(origins) => origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect(),
        Err(err) => {
            tracing::warn!(error = %err, "an instance's allowed_origins is not a JSON array of strings");
            HashSet::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_uris_keep_the_path_and_query() {
        let upstream = Upstream::parse("http://127.0.0.1:7300").expect("parses");
        let pq = PathAndQuery::from_static("/v1/me?x=1");
        assert_eq!(
            upstream.uri(Some(&pq)).expect("uri").to_string(),
            "http://127.0.0.1:7300/v1/me?x=1"
        );
        let based = Upstream::parse("http://10.0.0.1:80/base/").expect("parses");
        assert_eq!(
            based.uri(Some(&pq)).expect("uri").to_string(),
            "http://10.0.0.1:80/base/v1/me?x=1"
        );
        assert!(Upstream::parse("https://example.com").is_none());
        assert!(Upstream::parse("not a url").is_none());
    }

    #[test]
    fn origins_are_normalised() {
        let origins = parse_origins(r#"["https://App.example.com/", "http://localhost:3000"]"#);
        assert!(origins.contains("https://app.example.com"));
        assert!(origins.contains("http://localhost:3000"));
        assert!(parse_origins("not json").is_empty());
    }
}
