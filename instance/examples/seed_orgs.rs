//! Seeds a database with organizations for the organization benchmarks (`scripts/bench-orgs`):
//! by default 100,000 verified users in 10,000 organizations, one of which (the "big" one) has
//! 10,000 members. Every user belongs to one of the other 9,999 organizations (10 or 11 members
//! each: an owner, an admin, members and viewers), and 10,000 of them also to the big one:
//! 110,000 memberships. Memberships are inserted in a shuffled join order, so the big
//! organization's members are interleaved with everyone else's in `memberships.id` order, as they
//! would be after years of sign-ups.
//!
//! Every user gets the same password; it is hashed once (Argon2id, production parameters) and the
//! hash reused, since hashing 100,000 passwords would take minutes. Rows go in with multi-row
//! INSERTs in one transaction scoped to all organizations (the PostgreSQL row-level security
//! policies require the scope). On PostgreSQL the tables are ANALYZEd afterwards, as autovacuum
//! would do shortly after such a load; on SQLite nothing is (the service never runs ANALYZE).
//!
//! The database must not hold these seed users already. Prints one JSON object: the big
//! organization's id, its owner's email, a cursor halfway through its member list, users for
//! the organization-switch load (each in two organizations), counts and timings.
//!
//! Usage: cargo run --release --example seed_orgs -- (--database-url postgres://... | --data-dir DIR)
//!        [--password PW] [--users N] [--organizations N] [--big-org-members N]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use authstack_instance::db::{Backend, Db, Scope};
use clap::Parser;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, seq::index};
use serde_json::json;
use sqlx::{AnyConnection, Row};

#[derive(Parser)]
#[command(about = "Seeds users and organizations for the organization benchmarks")]
struct Args {
    /// `postgres://...`; without it, SQLite in --data-dir (as the server would open it).
    #[arg(long)]
    database_url: Option<String>,
    /// The instance's data directory (SQLite: holds authstack.db).
    #[arg(long, default_value = "seed-data")]
    data_dir: PathBuf,
    /// The password every seeded user gets.
    #[arg(long, default_value = "benchmark passphrase")]
    password: String,
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    #[arg(long, default_value_t = 10_000)]
    organizations: usize,
    /// Members of the big organization (owner included).
    #[arg(long, default_value_t = 10_000)]
    big_org_members: usize,
    /// Members of the big organization (role `member`) listed for the switch load.
    #[arg(long, default_value_t = 32)]
    switch_users: usize,
    /// Rows per INSERT statement.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Seed of the random choices (roles, who joins the big organization, join order).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

struct User {
    id: String,
    email: String,
    name: String,
    created_at: i64,
}

struct Org {
    id: String,
    name: String,
    slug: String,
    owner: usize,
}

struct Membership {
    id: String,
    org: usize,
    user: usize,
    role: &'static str,
    created_at: i64,
}

/// A bound value of a seeded row.
enum Cell<'a> {
    Text(&'a str),
    Int(i64),
}

/// Inserts `rows` into `table` with multi-row INSERTs of at most `batch` rows, keeping under
/// the bind-parameter limit of both drivers (SQLite 32,766; PostgreSQL 65,535).
///
/// PostgreSQL gets `$n` placeholders; SQLite gets anonymous `?` ones: SQLite treats `$n` as a
/// *named* parameter, looked up by a linear scan of the names seen so far both when parsing
/// and when sqlx binds, which is quadratic in the parameters of a statement (9,000-parameter
/// statements made seeding SQLite take 45 s instead of a few).
async fn insert_batched(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell<'_>>],
    batch: usize,
) -> anyhow::Result<()> {
    const MAX_PARAMS: usize = 32_766;
    let per_statement = batch.min(MAX_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, row) in chunk.iter().enumerate() {
            ensure!(row.len() == columns.len(), "row width mismatch in {table}");
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..row.len() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    Backend::Postgres => write!(sql, "${n}")?,
                    Backend::Sqlite => sql.push('?'),
                }
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql).persistent(false);
        for cell in chunk.iter().flatten() {
            query = match cell {
                Cell::Text(s) => query.bind(*s),
                Cell::Int(i) => query.bind(*i),
            };
        }
        query
            .execute(&mut *conn)
            .await
            .with_context(|| format!("inserting into {table}"))?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.organizations < 2 {
        bail!("--organizations must be at least 2 (the big one and another)");
    }
    let small_orgs = args.organizations - 1;
    if args.users < small_orgs {
        bail!("--users must be at least --organizations - 1 (every organization needs an owner)");
    }
    if args.big_org_members == 0 || args.big_org_members > args.users {
        bail!("--big-org-members must be between 1 and --users");
    }
    if args.batch == 0 {
        bail!("--batch must be positive");
    }
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.seed);

    let t = Instant::now();
    let password_hash = authstack_instance::passwords::hash_blocking(&args.password)?;
    let hash_secs = t.elapsed().as_secs_f64();

    // Generate everything in memory first.
    let t = Instant::now();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base = now - 400 * 24 * 3600;
    let users: Vec<User> = (0..args.users)
        .map(|i| User {
            id: format!("usr_{}", uuid::Uuid::now_v7().simple()),
            email: format!("seed-user-{i:06}@example.com"),
            name: format!("Seed User {i}"),
            created_at: base + i as i64,
        })
        .collect();

    // Home organizations: a shuffled deal of every user to the small organizations, the first
    // user dealt to each becomes its owner, the second its admin.
    let mut roles: Vec<Vec<(usize, &'static str)>> = vec![Vec::new(); args.organizations];
    let mut dealt: Vec<usize> = (0..args.users).collect();
    dealt.shuffle(&mut rng);
    for (j, &user) in dealt.iter().enumerate() {
        let org = 1 + j % small_orgs;
        let role = if j < small_orgs {
            "owner"
        } else if j < 2 * small_orgs {
            "admin"
        } else if rng.gen_bool(0.2) {
            "viewer"
        } else {
            "member"
        };
        roles[org].push((user, role));
    }
    // The big organization: a random sample of users; the first is the owner, 20 admins, then
    // members and viewers (4:1).
    let big_sample = index::sample(&mut rng, args.users, args.big_org_members);
    for (k, user) in big_sample.iter().enumerate() {
        let role = match k {
            0 => "owner",
            1..=20 => "admin",
            _ if rng.gen_bool(0.2) => "viewer",
            _ => "member",
        };
        roles[0].push((user, role));
    }

    let orgs: Vec<Org> = roles
        .iter()
        .enumerate()
        .map(|(i, members)| {
            let owner = members
                .iter()
                .find(|(_, role)| *role == "owner")
                .map(|(user, _)| *user)
                .context("an organization without an owner")?;
            let (name, slug) = if i == 0 {
                ("Big Org".to_owned(), "seed-big-org".to_owned())
            } else {
                (format!("Seed Org {i}"), format!("seed-org-{i:05}"))
            };
            Ok(Org {
                id: format!("org_{}", uuid::Uuid::now_v7().simple()),
                name,
                slug,
                owner,
            })
        })
        .collect::<anyhow::Result<_>>()?;

    // Join order: all memberships shuffled, ids (UUIDv7, time-ordered) assigned in that order.
    let mut joins: Vec<(usize, usize, &'static str)> = roles
        .iter()
        .enumerate()
        .flat_map(|(org, members)| members.iter().map(move |&(user, role)| (org, user, role)))
        .collect();
    joins.shuffle(&mut rng);
    let join_base = base + args.users as i64;
    let memberships: Vec<Membership> = joins
        .into_iter()
        .enumerate()
        .map(|(k, (org, user, role))| Membership {
            id: format!("mem_{}", uuid::Uuid::now_v7().simple()),
            org,
            user,
            role,
            created_at: join_base + k as i64,
        })
        .collect();
    let generate_secs = t.elapsed().as_secs_f64();

    // Write.
    if args.database_url.is_none() {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating {}", args.data_dir.display()))?;
    }
    let t = Instant::now();
    let db = Db::connect(args.database_url.as_deref(), &args.data_dir).await?;
    let connect_secs = t.elapsed().as_secs_f64();
    let mut tx = db.scoped(Scope::AllOrganizations, true).await?;

    let t = Instant::now();
    let user_rows: Vec<Vec<Cell>> = users
        .iter()
        .map(|u| {
            vec![
                Cell::Text(&u.id),
                Cell::Text(&u.email),
                Cell::Text(&u.email),
                Cell::Int(u.created_at),
                Cell::Text(&u.name),
                Cell::Text(&password_hash),
                Cell::Text("{}"),
                Cell::Int(u.created_at),
                Cell::Int(u.created_at),
            ]
        })
        .collect();
    insert_batched(
        &mut tx,
        db.backend,
        "users",
        &[
            "id",
            "email",
            "email_normalized",
            "email_verified_at",
            "name",
            "password_hash",
            "metadata",
            "created_at",
            "updated_at",
        ],
        &user_rows,
        args.batch,
    )
    .await
    .context("are these users seeded already? use a fresh database")?;
    let users_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let org_rows: Vec<Vec<Cell>> = orgs
        .iter()
        .map(|o| {
            let at = users[o.owner].created_at;
            vec![
                Cell::Text(&o.id),
                Cell::Text(&o.name),
                Cell::Text(&o.slug),
                Cell::Text(&users[o.owner].id),
                Cell::Int(at),
                Cell::Int(at),
            ]
        })
        .collect();
    insert_batched(
        &mut tx,
        db.backend,
        "organizations",
        &[
            "id",
            "name",
            "slug",
            "created_by",
            "created_at",
            "updated_at",
        ],
        &org_rows,
        args.batch,
    )
    .await?;
    let orgs_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let membership_rows: Vec<Vec<Cell>> = memberships
        .iter()
        .map(|m| {
            vec![
                Cell::Text(&m.id),
                Cell::Text(&orgs[m.org].id),
                Cell::Text(&users[m.user].id),
                Cell::Text(m.role),
                Cell::Int(m.created_at),
                Cell::Int(m.created_at),
            ]
        })
        .collect();
    insert_batched(
        &mut tx,
        db.backend,
        "memberships",
        &[
            "id",
            "organization_id",
            "user_id",
            "role",
            "created_at",
            "updated_at",
        ],
        &membership_rows,
        args.batch,
    )
    .await?;
    let memberships_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let big = &orgs[0];
    let big_count: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE organization_id = $1")
            .bind(&big.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
    ensure!(
        big_count == args.big_org_members as i64,
        "the big organization has {big_count} members, expected {}",
        args.big_org_members
    );
    tx.commit().await?;
    let commit_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    if db.backend == Backend::Postgres {
        sqlx::query("ANALYZE users, organizations, memberships")
            .execute(&db.writer)
            .await?;
    }
    let analyze_secs = t.elapsed().as_secs_f64();
    db.close().await;

    // What the load needs: a cursor halfway through the big organization's members (join
    // order = id order), and members with a second (home) organization to switch between.
    let mut big_ids: Vec<&str> = memberships
        .iter()
        .filter(|m| m.org == 0)
        .map(|m| m.id.as_str())
        .collect();
    big_ids.sort_unstable();
    let mid_cursor = big_ids.get(big_ids.len() / 2).copied().unwrap_or_default();
    let home: std::collections::HashMap<usize, usize> = memberships
        .iter()
        .filter(|m| m.org != 0)
        .map(|m| (m.user, m.org))
        .collect();
    let switch_users: Vec<serde_json::Value> = roles[0]
        .iter()
        .filter(|(_, role)| *role == "member")
        .take(args.switch_users)
        .filter_map(|(user, _)| {
            let home = home.get(user)?;
            Some(json!({
                "email": users[*user].email,
                "organizations": [orgs[*home].id, big.id],
            }))
        })
        .collect();

    println!(
        "{}",
        json!({
            "backend": format!("{:?}", db.backend).to_lowercase(),
            "users": users.len(),
            "organizations": orgs.len(),
            "memberships": memberships.len(),
            "big_org_id": big.id,
            "big_org_slug": big.slug,
            "big_org_members": big_count,
            "owner_email": users[big.owner].email,
            "mid_cursor": mid_cursor,
            "switch_users": switch_users,
            "seconds": {
                "hash_password": hash_secs,
                "generate": generate_secs,
                "connect_and_migrate": connect_secs,
                "insert_users": users_secs,
                "insert_organizations": orgs_secs,
                "insert_memberships": memberships_secs,
                "commit": commit_secs,
                "analyze": analyze_secs,
                "total": started.elapsed().as_secs_f64(),
            },
        })
    );
    Ok(())
}
