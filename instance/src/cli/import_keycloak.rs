//! `authstack-instance import keycloak FILE [--realm NAME] [--mapping FILE] [--dry-run]`.
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
use crate::keycloak::{Mapping, apply, plan, select_realm};

#[derive(Args)]
pub struct KeycloakArgs {
    /// A realm export (`kc.sh export`, or the admin console's partial export): one realm
    /// object, or an array of realms.
    file: PathBuf,
    /// The realm to import when the export holds several.
    #[arg(long)]
    realm: Option<String>,
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
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let realm = select_realm(&text, args.realm.as_deref())?;
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
    if !args.dry_run && !report.rejected.is_empty() {
        let path = super::import::sidecar(&args.file, ".rejected.jsonl");
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
