//! The `accounts` table: the only place it is read or written.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Account;
use crate::db::Db;
use crate::ids::{AccountId, OrganizationId};

const COLUMNS: &str =
    "id, organization_id, name, created_by, created_by_email, stripe_customer_id, created_at";

fn from_row(row: &AnyRow) -> sqlx::Result<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_by_email: row.try_get("created_by_email")?,
        stripe_customer_id: row.try_get("stripe_customer_id")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Stores a new account (it has no Stripe customer yet).
pub async fn insert<'c, E>(executor: E, account: &Account) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO accounts (id, organization_id, name, created_by, created_by_email, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&account.id)
    .bind(&account.organization_id)
    .bind(&account.name)
    .bind(&account.created_by)
    .bind(&account.created_by_email)
    .bind(account.created_at)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id: &AccountId) -> sqlx::Result<Option<Account>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The accounts of a platform organization (one, in practice).
pub async fn of_organization(
    db: &Db,
    organization_id: &OrganizationId,
) -> sqlx::Result<Vec<Account>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE organization_id = $1 ORDER BY created_at"
    ))
    .bind(organization_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn find_by_customer<'c, E>(executor: E, customer: &str) -> sqlx::Result<Option<Account>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE stripe_customer_id = $1"
    ))
    .bind(customer)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Gives the account its Stripe customer unless it has one; false when one was set already
/// (a concurrent request or an earlier event won).
pub async fn set_stripe_customer<'c, E>(
    executor: E,
    account_id: &AccountId,
    customer: &str,
) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let updated = sqlx::query(
        "UPDATE accounts SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL",
    )
    .bind(customer)
    .bind(account_id)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(updated > 0)
}
