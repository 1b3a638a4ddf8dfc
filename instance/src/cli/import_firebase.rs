//! `authstack-instance import firebase FILE --hash-config FILE [--dry-run]`: a Firebase
//! Authentication export (`firebase auth:export FILE --format=json`) with the project's
//! password hash parameters, from the console's text in a file (or JSON with the same names),
//! or `--rounds`, `--mem-cost` and `--salt-separator` with the signer key in
//! `FIREBASE_SIGNER_KEY`: the key is a secret, never a flag.
//!
//! The signer key is sealed under the instance's master key (`AUTHSTACK_MASTER_KEY`, else
//! `DATA_DIR/master.key`), which must be the running instance's: the import checks that it
//! opens the instance's signing key. Resuming relies on idempotency, as for Keycloak; rejected
//! users are appended to `FILE.rejected.jsonl`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;

use crate::crypto::MasterKey;
use crate::db::Db;
use crate::firebase::{HashConfig, apply, read_export};
use crate::passwords::HashKeys;

#[derive(Args)]
pub struct FirebaseArgs {
    /// The JSON file `firebase auth:export --format=json` wrote (`{"users": [...]}`).
    file: PathBuf,
    /// The project's password hash parameters: the console's `hash_config { ... }` text, or a
    /// JSON object with its names (base64_signer_key, base64_salt_separator, rounds, mem_cost).
    #[arg(long, conflicts_with_all = ["rounds", "mem_cost", "salt_separator"])]
    hash_config: Option<PathBuf>,
    /// The parameters' `rounds` (without --hash-config; the signer key is then read from
    /// FIREBASE_SIGNER_KEY).
    #[arg(long, requires_all = ["mem_cost", "salt_separator"])]
    rounds: Option<u32>,
    /// The parameters' `mem_cost`.
    #[arg(long, requires_all = ["rounds", "salt_separator"])]
    mem_cost: Option<u32>,
    /// The parameters' `base64_salt_separator`.
    #[arg(long, requires_all = ["rounds", "mem_cost"])]
    salt_separator: Option<String>,
    /// Print what would be imported, and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    storage: super::StorageArgs,
    /// The instance's master key (base64 of 32 bytes), when it is not DATA_DIR/master.key.
    #[arg(long, env = "AUTHSTACK_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
}

pub async fn run(args: FirebaseArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let users = read_export(&text)?;
    drop(text);
    let hash = hash_config(&args)?;
    let db = Db::connect(args.storage.database_url.as_deref(), &args.storage.data_dir).await?;
    let keys = if args.dry_run {
        None
    } else {
        // Duplicates are found by canonical form: stored rows must hold it before rows are added.
        crate::users::store::canonicalize_stored_emails(&db).await?;
        let master = MasterKey::load_existing(
            args.master_key.map(SecretString::from).as_ref(),
            &args.storage.data_dir,
        )?;
        crate::keys::Keys::check_master_key(&db, &master).await?;
        Some(HashKeys::new(db.clone(), Arc::new(master)))
    };
    let bar = ProgressBar::new(users.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = apply(
        &db,
        users,
        hash.as_ref(),
        keys.as_ref(),
        args.dry_run,
        now,
        &|done| bar.set_position(done as u64),
    )
    .await?;
    bar.finish_and_clear();
    print!("{}", report.summary());
    if !args.dry_run && !report.rejected.is_empty() {
        let path = super::sidecar::sidecar(&args.file, ".rejected.jsonl");
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        for item in &report.rejected {
            writeln!(out, "{}", serde_json::to_string(item)?)?;
        }
        println!("rejected users written to {}", path.display());
    }
    db.close().await;
    Ok(())
}

/// The hash parameters from --hash-config, or the flags and FIREBASE_SIGNER_KEY; `None` when
/// neither is given (an export without password hashes needs none).
fn hash_config(args: &FirebaseArgs) -> anyhow::Result<Option<HashConfig>> {
    if let Some(path) = &args.hash_config {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return HashConfig::parse(&text)
            .with_context(|| format!("the hash parameters in {}", path.display()))
            .map(Some);
    }
    let (Some(rounds), Some(mem_cost), Some(separator)) =
        (args.rounds, args.mem_cost, &args.salt_separator)
    else {
        return Ok(None);
    };
    let key = std::env::var("FIREBASE_SIGNER_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .context("--rounds, --mem-cost and --salt-separator need FIREBASE_SIGNER_KEY (base64_signer_key) in the environment")?;
    HashConfig::new(&key, separator, rounds, mem_cost).map(Some)
}
