//! `authstack-instance import keycloak FILE [--realm NAME] [--mapping FILE] [--dry-run]`, or
//! `import keycloak --url URL --realm NAME` to read the realm from Keycloak's admin API, signing
//! in with `KEYCLOAK_CLIENT_SECRET` (client credentials, `--client-id`) or `KEYCLOAK_PASSWORD`
//! (`--username`): secrets come from the environment, never the command line. Rejected items
//! of an admin-API import go to `keycloak-REALM.rejected.jsonl`.
//!
//! Resuming relies on idempotency rather than a checkpoint: every write is preceded by a
//! look-up of what it would create, so running the same import again after an interruption
//! writes only what is missing. Rejected items are appended to `FILE.rejected.jsonl`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::db::Db;
use crate::keycloak::admin_api::{Credentials, fetch_realm};
use crate::keycloak::{Mapping, apply, plan, select_realm};

#[derive(Args)]
pub struct KeycloakArgs {
    /// A realm export (`kc.sh export`, or the admin console's partial export): one realm
    /// object, or an array of realms.
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    file: Option<PathBuf>,
    /// The realm to import when the export holds several (required with --url).
    #[arg(long)]
    realm: Option<String>,
    /// Read the realm from this Keycloak's admin API instead of a file (no password hashes:
    /// the admin API does not return them).
    #[arg(long, requires = "realm")]
    url: Option<String>,
    /// The realm the admin signs in to (with --url).
    #[arg(long, default_value = "master")]
    auth_realm: String,
    /// The confidential client used with KEYCLOAK_CLIENT_SECRET (with --url).
    #[arg(long, default_value = "admin-cli")]
    client_id: String,
    /// The administrator used with KEYCLOAK_PASSWORD (with --url).
    #[arg(long, default_value = "admin")]
    username: String,
    /// What Keycloak roles become (YAML or JSON); see docs/import.md for the defaults.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Print what would be imported, and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    storage: super::StorageArgs,
}

pub async fn run(args: KeycloakArgs) -> anyhow::Result<()> {
    let realm = match (&args.file, &args.url, &args.realm) {
        (Some(file), _, _) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            select_realm(&text, args.realm.as_deref())?
        }
        (None, Some(url), Some(realm)) => {
            let credentials = credentials(&args)?;
            // reqwest's rustls has no crypto provider of its own in this build (see outbound.rs).
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?;
            fetch_realm(url, realm, &credentials, client)
                .await
                .with_context(|| format!("reading the realm {realm} from {url}"))?
        }
        _ => anyhow::bail!("give a realm export FILE, or --url and --realm"),
    };
    let mapping = match &args.mapping {
        Some(path) => Mapping::from_file(path)?,
        None => Mapping::default(),
    };
    let plan = plan(&realm, &mapping);
    let db = Db::connect(args.storage.database_url.as_deref(), &args.storage.data_dir).await?;
    if !args.dry_run {
        // Duplicates are found by canonical form: stored rows must hold it before rows are added.
        crate::users::store::canonicalize_stored_emails(&db).await?;
    }
    let bar = ProgressBar::new(plan.users.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = apply(&db, plan, args.dry_run, now, &|done| {
        bar.set_position(done as u64)
    })
    .await?;
    bar.finish_and_clear();
    print!("{}", report.summary());
    let rejected_file = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("keycloak-{}", report.realm)));
    if !args.dry_run && !report.rejected.is_empty() {
        let path = super::sidecar::sidecar(&rejected_file, ".rejected.jsonl");
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        for item in &report.rejected {
            writeln!(out, "{}", serde_json::to_string(item)?)?;
        }
        println!("rejected items written to {}", path.display());
    }
    db.close().await;
    Ok(())
}

/// The admin API credentials from the environment: a client secret if set, else a password.
fn credentials(args: &KeycloakArgs) -> anyhow::Result<Credentials> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(secret) = env("KEYCLOAK_CLIENT_SECRET") {
        return Ok(Credentials::Client {
            realm: args.auth_realm.clone(),
            client_id: args.client_id.clone(),
            secret: secret.into(),
        });
    }
    match env("KEYCLOAK_PASSWORD") {
        Some(password) => Ok(Credentials::Password {
            realm: args.auth_realm.clone(),
            username: args.username.clone(),
            password: password.into(),
        }),
        None => anyhow::bail!(
            "--url needs KEYCLOAK_CLIENT_SECRET or KEYCLOAK_PASSWORD in the environment"
        ),
    }
}
