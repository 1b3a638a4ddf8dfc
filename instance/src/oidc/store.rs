//! Persistence of authorization codes and consents.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::UnixTime;
use crate::db::Db;

/// An authorization code as stored (its hash, never the code).
#[derive(Debug, Clone)]
pub struct Code {
    pub code_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub session_id: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// The grant the first redemption created.
    pub grant_id: Option<String>,
    /// The organization the user signed in to, when the request named one.
    pub org_id: Option<String>,
}

fn from_row(row: &AnyRow) -> sqlx::Result<Code> {
    Ok(Code {
        code_hash: row.try_get("code_hash")?,
        client_id: row.try_get("client_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        scope: row.try_get("scope")?,
        code_challenge: row.try_get("code_challenge")?,
        nonce: row.try_get("nonce")?,
        session_id: row.try_get("session_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        grant_id: row.try_get("grant_id")?,
        org_id: row.try_get("org_id")?,
    })
}

/// Drops the codes that expired over an hour before `now` (the instance's minute sweep); a
/// used code is kept until then so that its replay is recognised and revokes its grant.
pub async fn delete_expired_codes(db: &Db, now: crate::clock::UnixTime) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM authorization_codes WHERE expires_at <= $1")
        .bind(now - 3600)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected())
}

pub async fn insert_code(db: &Db, code: &Code) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, scope, \
         code_challenge, nonce, session_id, created_at, expires_at, org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&code.code_hash)
    .bind(&code.client_id)
    .bind(&code.redirect_uri)
    .bind(&code.scope)
    .bind(&code.code_challenge)
    .bind(&code.nonce)
    .bind(&code.session_id)
    .bind(code.created_at)
    .bind(code.expires_at)
    .bind(&code.org_id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// What redeeming a code found.
#[derive(Debug)]
pub enum Redeemed {
    /// This request used the code up.
    First(Code),
    /// The code was redeemed before.
    Again(Code),
    Unknown,
}

/// Marks the code used by the grant `grant_id`; exactly one of concurrent redemptions gets
/// [`Redeemed::First`]. [`Redeemed::Again`] carries the grant of the first.
pub async fn redeem(
    db: &Db,
    code_hash: &str,
    grant_id: &str,
    now: UnixTime,
) -> sqlx::Result<Redeemed> {
    let claimed = sqlx::query(
        "UPDATE authorization_codes SET used_at = $2, grant_id = $3 \
         WHERE code_hash = $1 AND used_at IS NULL",
    )
    .bind(code_hash)
    .bind(now)
    .bind(grant_id)
    .execute(&db.writer)
    .await?;
    let row = sqlx::query(
        "SELECT code_hash, client_id, redirect_uri, scope, code_challenge, nonce, session_id, \
         created_at, expires_at, grant_id, org_id FROM authorization_codes WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(&db.writer)
    .await?;
    let Some(code) = row.as_ref().map(from_row).transpose()? else {
        return Ok(Redeemed::Unknown);
    };
    Ok(if claimed.rows_affected() == 1 {
        Redeemed::First(code)
    } else {
        Redeemed::Again(code)
    })
}

/// The scopes `user_id` allowed `client_id`, if they were asked before.
pub async fn consented_scope(
    db: &Db,
    user_id: &str,
    client_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&db.pool)
        .await?
        .map(|row| row.try_get("scope"))
        .transpose()
}

/// Records that `user_id` allowed `client_id` these scopes (replacing what was allowed).
pub async fn record_consent(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, \
         granted_at = excluded.granted_at",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scope)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}
