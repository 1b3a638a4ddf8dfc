//! Persistence of users.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{EmailAddress, User};
use crate::clock::UnixTime;
use crate::db::{Db, FilterValue, Filters, Scope};

const COLUMNS: &str = "id, email, email_normalized, email_verified_at, name, password_hash, metadata, banned_until, \
                       ban_reason, external_id, created_at, updated_at, last_login_at";

fn from_row(row: &AnyRow) -> sqlx::Result<User> {
    let metadata: String = row.try_get("metadata")?;
    Ok(User {
        id: row.try_get("id")?,
        email: EmailAddress::from_stored(row.try_get("email")?, row.try_get("email_normalized")?),
        email_verified_at: row.try_get("email_verified_at")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        metadata: serde_json::from_str(&metadata).unwrap_or_else(|_| serde_json::json!({})),
        banned_until: row.try_get("banned_until")?,
        ban_reason: row.try_get("ban_reason")?,
        external_id: row.try_get("external_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_login_at: row.try_get("last_login_at")?,
    })
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user whose address is `email` by canonical form.
pub async fn find_by_email(db: &Db, email: &EmailAddress) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_normalized = $1");
    sqlx::query(&sql)
        .bind(email.canonical())
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user imported with `external_id` (the id in the system imported from).
pub async fn find_by_external_id(db: &Db, external_id: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE external_id = $1 ORDER BY id LIMIT 1");
    sqlx::query(&sql)
        .bind(external_id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Inserts `user` unless its email exists, without failing the surrounding transaction.
pub async fn insert<'e, E: sqlx::AnyExecutor<'e>>(executor: E, user: &User) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO users (id, email, email_normalized, email_verified_at, name, password_hash, \
         metadata, external_id, created_at, updated_at, banned_until, ban_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (email_normalized) DO NOTHING",
    )
    .bind(&user.id)
    .bind(user.email.as_str())
    .bind(user.email.canonical())
    .bind(user.email_verified_at)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(user.metadata.to_string())
    .bind(&user.external_id)
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(user.banned_until)
    .bind(&user.ban_reason)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes the editable fields of `user`; a duplicate email is reported as `Ok(false)`.
pub async fn update(db: &Db, user: &User) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE users SET email = $2, email_normalized = $3, email_verified_at = $4, name = $5, \
         metadata = $6, banned_until = $7, ban_reason = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(&user.id)
    .bind(user.email.as_str())
    .bind(user.email.canonical())
    .bind(user.email_verified_at)
    .bind(&user.name)
    .bind(user.metadata.to_string())
    .bind(user.banned_until)
    .bind(&user.ban_reason)
    .bind(user.updated_at)
    .execute(&db.writer)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(err) if Db::is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err),
    }
}

pub async fn set_password_hash<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    id: &str,
    hash: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// Verifies the user's address if it is still `email` (the address a token was mailed to, as
/// stored with the token: compared by canonical form).
pub async fn mark_email_verified<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    id: &str,
    email: &str,
    now: UnixTime,
) -> sqlx::Result<bool> {
    // Only the address the token was sent to is verified; an address changed since stays
    // unverified. A token's address that no longer canonicalises matches nothing.
    let Some(canonical) = super::canonical_form(email) else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3), updated_at = $3 \
         WHERE id = $1 AND email_normalized = $2",
    )
    .bind(id)
    .bind(canonical)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_login(db: &Db, id: &str, now: UnixTime) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO user_activity (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id)
        .bind(crate::admin::usage::day(now))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One page of users ordered by id (creation order), optionally filtered by a search over email
/// and name.
pub async fn list(
    db: &Db,
    search: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<User>> {
    let patterns = search.map(search_patterns);
    let mut filters = Filters::default();
    filters
        .and_some_pair(
            "(email_normalized LIKE {1} ESCAPE '\\' OR LOWER(COALESCE(name, '')) LIKE {2} ESCAPE '\\')",
            patterns
                .as_ref()
                .map(|(email, name)| (FilterValue::Text(email), FilterValue::Text(name))),
        )
        .and_some("id > {}", after.map(FilterValue::Text));
    let sql = filters.sql(
        &format!("SELECT {COLUMNS} FROM users"),
        "ORDER BY id LIMIT {}",
    );
    let rows = filters
        .bind(sqlx::query(&sql))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// `LIKE` patterns matching `search` anywhere, with `%`, `_` and `\\` literal: for canonical
/// addresses the query folded as they are ([`super::fold`]), for names in lowercase (what the
/// SQL `LOWER` of the other side makes of them).
pub fn search_patterns(search: &str) -> (String, String) {
    (like(&super::fold(search)), like(&search.to_lowercase()))
}

fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The version of the canonical email form the stored lookups hold, kept in `meta`. Raise it
/// when [`super::canonical_form`] changes so that the next start recomputes them.
const CANONICAL_EMAIL_VERSION: &str = "1";

/// Brings the stored lookups (`users.email_normalized`, `invitations.email_normalized`) to the
/// current canonical form, once per [`CANONICAL_EMAIL_VERSION`]: rows written while the lookup
/// was a plain lowercase. Idempotent, one transaction, serialised across instances sharing the
/// database.
///
/// Two users whose addresses now canonicalise alike both stay. Rows are taken oldest first and
/// a row whose canonical form another row already holds keeps its old lookup; a warning names
/// both user ids (never the addresses) for an operator to resolve.
pub async fn canonicalize_stored_emails(db: &Db) -> sqlx::Result<()> {
    let mut tx = db.scoped(Scope::AllOrganizations, true).await?;
    db.lock(&mut tx, "canonical-emails").await?;
    let done: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'canonical_email_version'")
            .fetch_optional(&mut *tx)
            .await?;
    if done.as_deref() == Some(CANONICAL_EMAIL_VERSION) {
        return tx.commit().await;
    }
    let rows = sqlx::query("SELECT id, email, email_normalized FROM users ORDER BY created_at, id")
        .fetch_all(&mut *tx)
        .await?;
    let mut pending = Vec::new();
    for row in &rows {
        let (id, email, lookup): (String, String, String) = (
            row.try_get("id")?,
            row.try_get("email")?,
            row.try_get("email_normalized")?,
        );
        match super::canonical_form(&email) {
            Some(canonical) if canonical != lookup => pending.push((id, canonical)),
            Some(_) => {}
            None => tracing::warn!(
                user_id = %id,
                "stored email has no canonical form; its lookup is left unchanged"
            ),
        }
    }
    // A row may wait for another to move off the form it needs: repeat while rows move.
    let mut updated = 0;
    loop {
        let before = pending.len();
        let mut blocked = Vec::new();
        for (id, canonical) in pending {
            let done = sqlx::query(
                "UPDATE users SET email_normalized = $2 WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM users WHERE email_normalized = $2)",
            )
            .bind(&id)
            .bind(&canonical)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                updated += 1;
            } else {
                blocked.push((id, canonical));
            }
        }
        pending = blocked;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (id, canonical) in &pending {
        let holder: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
                .bind(canonical)
                .fetch_optional(&mut *tx)
                .await?;
        tracing::warn!(
            user_id = %id,
            holder_id = holder.as_deref().unwrap_or_default(),
            "two users' emails are now the same address: the other user keeps it, this user's \
             lookup is left unchanged (merge or change one of them)"
        );
    }
    let invitations = crate::invitations::store::canonicalize_lookups(&mut tx).await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('canonical_email_version', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(CANONICAL_EMAIL_VERSION)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if updated > 0 || invitations > 0 || !pending.is_empty() {
        tracing::info!(
            users = updated,
            invitations,
            collisions = pending.len(),
            "stored email lookups brought to the canonical form"
        );
    }
    Ok(())
}
