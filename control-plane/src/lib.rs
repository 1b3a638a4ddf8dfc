//! The AuthStack control plane: accounts (organizations of the platform instance), plans and
//! regions, billing, customer instances and their provisioning, API keys, and the gateway that
//! routes API-key traffic to instances.

pub mod billing;
pub mod catalog;
pub mod config;
pub mod db;
pub mod error;
pub mod gateway;
pub mod provisioner;

/// Route changes: how the control plane tells every gateway that keys or instances changed.
pub mod route_changes {
    use authstack_instance::clock::UnixTime;
    use sqlx::Row;

    use crate::db::Db;

    /// Records a change; gateways drop their caches within their poll interval.
    pub async fn record<'c, E>(executor: E, now: UnixTime) -> sqlx::Result<()>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        sqlx::query("INSERT INTO route_changes (at) VALUES ($1)")
            .bind(now)
            .execute(executor)
            .await?;
        Ok(())
    }

    /// The newest change's number (0 when none).
    pub async fn latest(db: &Db) -> sqlx::Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS latest FROM route_changes")
            .fetch_one(&db.pool)
            .await?;
        row.try_get::<i64, _>("latest")
    }
}
