//! `authstack-instance import FILE`: users from JSON lines, in batches, with a progress bar;
//! `import keycloak FILE` reads a Keycloak realm export instead ([`super::import_keycloak`]),
//! `import firebase FILE` a Firebase Authentication export ([`super::import_firebase`]).
//!
//! After each committed batch the byte offset reached is written to `FILE.checkpoint`, so an
//! interrupted import resumes where it stopped. Rejected rows go to `FILE.rejected.jsonl`
//! with their line number and reason.

use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::sidecar::sidecar;

use crate::admin::import::{Auth0User, ImportRow, Rejected, import_batch};
use crate::db::Db;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    source: Option<ImportSource>,
    #[command(flatten)]
    json_lines: JsonLinesArgs,
}

/// Other systems' exports.
#[derive(Subcommand)]
pub enum ImportSource {
    /// Import a Keycloak realm export: users with their password hashes, groups and
    /// organizations, roles, OpenID Connect clients (idempotent).
    Keycloak(Box<super::import_keycloak::KeycloakArgs>),
    /// Import an Auth0 user export (JSON lines with bcrypt `passwordHash`; resumable like the
    /// JSON-lines import).
    Auth0(JsonLinesArgs),
    /// Import a Firebase Authentication export (`firebase auth:export --format=json`) with the
    /// project's password hash parameters (idempotent).
    Firebase(Box<super::import_firebase::FirebaseArgs>),
}

#[derive(Args)]
pub struct JsonLinesArgs {
    /// JSON-lines file: one object per line with email, password_hash, name, email_verified,
    /// metadata, external_id.
    #[arg(required = true)]
    file: Option<PathBuf>,
    #[command(flatten)]
    storage: super::StorageArgs,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch_size: u16,
    /// Ignore an existing checkpoint and start from the first line.
    #[arg(long)]
    restart: bool,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    match args.source {
        Some(ImportSource::Keycloak(args)) => super::import_keycloak::run(*args).await,
        Some(ImportSource::Auth0(args)) => run_json_lines(args, auth0_row).await,
        Some(ImportSource::Firebase(args)) => super::import_firebase::run(*args).await,
        None => {
            run_json_lines(args.json_lines, |line| {
                serde_json::from_str::<ImportRow>(line).map_err(|e| e.to_string())
            })
            .await
        }
    }
}

fn auth0_row(line: &str) -> Result<ImportRow, String> {
    serde_json::from_str::<Auth0User>(line)
        .map(ImportRow::from)
        .map_err(|e| e.to_string())
}

async fn run_json_lines(
    args: JsonLinesArgs,
    parse: fn(&str) -> Result<ImportRow, String>,
) -> anyhow::Result<()> {
    let file_path = args.file.context("a JSON-lines file is required")?;
    let checkpoint_path = sidecar(&file_path, ".checkpoint");
    let rejected_path = sidecar(&file_path, ".rejected.jsonl");
    let db = Db::connect(args.storage.database_url.as_deref(), &args.storage.data_dir).await?;
    // Duplicates are found by canonical form: stored rows must hold it before rows are added.
    crate::users::store::canonicalize_stored_emails(&db).await?;

    let file = std::fs::File::open(&file_path)
        .with_context(|| format!("opening {}", file_path.display()))?;
    let total = file.metadata()?.len();
    let (mut offset, mut line_no) = match (args.restart, std::fs::read_to_string(&checkpoint_path))
    {
        (false, Ok(text)) => parse_checkpoint(&text)
            .context("reading the checkpoint (use --restart to ignore it)")?,
        _ => (0, 0),
    };
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(offset))?;
    let mut rejected_out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&rejected_path)
        .with_context(|| format!("opening {}", rejected_path.display()))?;

    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(offset);
    let (mut imported, mut rejected) = (0usize, 0usize);
    let mut line = String::new();
    loop {
        let mut batch = Vec::with_capacity(args.batch_size as usize);
        let mut bad = Vec::new();
        while batch.len() < args.batch_size as usize {
            line.clear();
            let read = reader.read_line(&mut line)?;
            if read == 0 {
                break;
            }
            offset += read as u64;
            line_no += 1;
            if line.trim().is_empty() {
                continue;
            }
            match parse(&line) {
                Ok(row) => batch.push((line_no, row)),
                Err(err) => bad.push(Rejected {
                    index: line_no,
                    email: None,
                    reason: format!("not a valid row: {err}"),
                }),
            }
        }
        if batch.is_empty() && bad.is_empty() {
            break;
        }
        let report =
            import_batch(&db, batch, time::OffsetDateTime::now_utc().unix_timestamp()).await?;
        imported += report.imported;
        for row in bad.iter().chain(&report.rejected) {
            rejected += 1;
            writeln!(rejected_out, "{}", serde_json::to_string(row)?)?;
        }
        rejected_out.flush()?;
        // The batch is committed; only now may a restart skip it.
        std::fs::write(&checkpoint_path, format!("{offset} {line_no}\n"))?;
        bar.set_position(offset);
        bar.set_message(format!("{imported} imported, {rejected} rejected"));
    }
    bar.finish_with_message(format!("{imported} imported, {rejected} rejected"));
    println!(
        "imported {imported} users, rejected {rejected} rows (see {})",
        rejected_path.display()
    );
    Ok(())
}

fn parse_checkpoint(text: &str) -> anyhow::Result<(u64, usize)> {
    let mut parts = text.split_whitespace();
    let offset = parts.next().context("empty checkpoint")?.parse()?;
    let line = parts
        .next()
        .context("checkpoint without a line number")?
        .parse()?;
    Ok((offset, line))
}
