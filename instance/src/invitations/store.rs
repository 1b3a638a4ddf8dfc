//! Persistence of invitations.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Invitation;
use crate::clock::UnixTime;
use crate::users::EmailAddress;

const COLUMNS: &str = "id, organization_id, email, email_normalized, role, invited_by, created_at, expires_at, accepted_at, cancelled_at";

fn from_row(row: &AnyRow) -> sqlx::Result<Invitation> {
    Ok(Invitation {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        email: EmailAddress::from_stored(row.try_get("email")?, row.try_get("email_normalized")?),
        role: row.try_get("role")?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        accepted_at: row.try_get("accepted_at")?,
        cancelled_at: row.try_get("cancelled_at")?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    inv: &Invitation,
    token_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO invitations (id, organization_id, email, email_normalized, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&inv.id)
    .bind(&inv.organization_id)
    .bind(inv.email.as_str())
    .bind(inv.email.canonical())
    .bind(&inv.role)
    .bind(token_hash)
    .bind(&inv.invited_by)
    .bind(inv.created_at)
    .bind(inv.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> sqlx::Result<Option<Invitation>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE organization_id = $1 AND id = $2");
    sqlx::query(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Finds an invitation by its token's hash (across organizations: the token is the key).
pub async fn find_by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> sqlx::Result<Option<Invitation>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1");
    sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Invitations neither accepted nor cancelled (expired ones included, to be resent), oldest first.
pub async fn list_open(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<Vec<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE organization_id = $1 AND accepted_at IS NULL AND cancelled_at IS NULL ORDER BY id"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// An open, unexpired invitation of `email` to `org_id`.
pub async fn find_pending_for(
    conn: &mut AnyConnection,
    org_id: &str,
    email: &EmailAddress,
    now: UnixTime,
) -> sqlx::Result<Option<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE organization_id = $1 AND email_normalized = $2 \
         AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $3"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .bind(email.canonical())
        .bind(now)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn count_pending_with_role(
    conn: &mut AnyConnection,
    org_id: &str,
    role: &str,
    now: UnixTime,
) -> sqlx::Result<i64> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM invitations WHERE organization_id = $1 AND role = $2 \
         AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $3",
    )
    .bind(org_id)
    .bind(role)
    .bind(now)
    .fetch_one(conn)
    .await?
    .try_get("n")
}

/// Replaces the token and extends the expiry (resend); the old link stops working.
pub async fn renew(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
    token_hash: &str,
    expires_at: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE invitations SET token_hash = $3, expires_at = $4 WHERE organization_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .bind(token_hash)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn cancel(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
    now: UnixTime,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET cancelled_at = $3 WHERE organization_id = $1 AND id = $2 AND accepted_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the invitation accepted if it is still open and unexpired; false otherwise (so two
/// concurrent accepts cannot both succeed).
pub async fn accept(conn: &mut AnyConnection, id: &str, now: UnixTime) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Recomputes the lookup of every open invitation in the canonical form (see
/// [`crate::users::store::canonicalize_stored_emails`]); returns how many changed.
pub async fn canonicalize_lookups(conn: &mut AnyConnection) -> sqlx::Result<u64> {
    let rows = sqlx::query(
        "SELECT id, email, email_normalized FROM invitations \
         WHERE accepted_at IS NULL AND cancelled_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut changed = 0;
    for row in &rows {
        let (id, email, lookup): (String, String, String) = (
            row.try_get("id")?,
            row.try_get("email")?,
            row.try_get("email_normalized")?,
        );
        if let Some(canonical) = crate::users::canonical_form(&email)
            && canonical != lookup
        {
            changed += sqlx::query("UPDATE invitations SET email_normalized = $2 WHERE id = $1")
                .bind(&id)
                .bind(&canonical)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
    }
    Ok(changed)
}
