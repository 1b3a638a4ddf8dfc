//! Writing a [`Plan`]: organizations and their roles, users in batches, memberships,
//! applications. Each write is preceded by a look-up of what it would create, so that
//! re-running an import (after an interruption, or by mistake) writes only what is missing.
//! A dry run does the look-ups and none of the writes.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;

use super::credentials::Password;
use super::plan::{Plan, PlannedUser};
use super::{Counts, Item, Report};
use crate::admin::import::{DISABLED_UNTIL, ImportRow, find_existing, validate};
use crate::applications::{Application, OrganizationSelection, new_application_id, new_secret};
use crate::clock::UnixTime;
use crate::db::{Db, Scope};
use crate::orgs::{Organization, new_org_id};
use crate::rbac::store::CustomRole;

/// Users written per transaction.
const BATCH: usize = 500;

/// Writes `plan` (or, with `dry_run`, only counts what it would write); `progress` is told
/// how many users are done after each batch.
pub async fn apply(
    db: &Db,
    plan: Plan,
    dry_run: bool,
    now: UnixTime,
    progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<Report> {
    let mut report = Report {
        realm: plan.realm.clone(),
        dry_run,
        users: Counts::default(),
        organizations: Counts::default(),
        roles: Counts::default(),
        memberships: Counts::default(),
        applications: Counts::default(),
        skipped: plan.skipped,
        rejected: plan.rejected,
    };
    let realm = plan.realm;

    // Organizations and their custom roles. `None`: would be created (dry run).
    let mut org_ids: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut tx = db.scoped(Scope::AllOrganizations, !dry_run).await?;
    for planned in &plan.organizations {
        let id = match crate::orgs::store::find_by_slug(&mut tx, &planned.slug).await? {
            Some(org) => {
                report.organizations.unchanged += 1;
                Some(org.id)
            }
            None if dry_run => {
                report.organizations.imported += 1;
                None
            }
            None => {
                let org = Organization {
                    id: new_org_id(),
                    name: planned.name.clone(),
                    slug: planned.slug.clone(),
                    logo_url: None,
                    branding: serde_json::json!({}),
                    settings: serde_json::json!({}),
                    created_by: None,
                    created_at: now,
                    updated_at: now,
                };
                anyhow::ensure!(
                    crate::orgs::store::insert(&mut tx, &org).await?,
                    "the slug {} was taken while importing",
                    org.slug
                );
                report.organizations.imported += 1;
                Some(org.id)
            }
        };
        for role in &plan.roles {
            let exists = match &id {
                Some(id) => crate::rbac::store::find_by_key(&mut tx, id, &role.key)
                    .await?
                    .is_some(),
                None => false,
            };
            match (&id, exists) {
                (_, true) => report.roles.unchanged += 1,
                (Some(id), false) if !dry_run => {
                    crate::rbac::store::insert(
                        &mut tx,
                        &CustomRole {
                            id: format!("role_{}", uuid::Uuid::now_v7().simple()),
                            organization_id: id.clone(),
                            key: role.key.clone(),
                            name: role.name.clone(),
                            description: role.description.clone(),
                            permissions: role.permissions.clone(),
                            created_at: now,
                            updated_at: now,
                        },
                    )
                    .await?;
                    report.roles.imported += 1;
                }
                _ => report.roles.imported += 1,
            }
        }
        org_ids.insert(planned.slug.clone(), id);
    }
    tx.commit().await?;

    // Users, in batches; then the memberships of every user, new or found.
    // (user id, None in a dry run for a new user; their memberships)
    let mut members: Vec<(Option<String>, Memberships)> = Vec::new();
    let mut done = 0;
    let mut users = plan.users.into_iter().peekable();
    while users.peek().is_some() {
        let batch: Vec<PlannedUser> = users.by_ref().take(BATCH).collect();
        let mut tx = db.begin_write().await?;
        for user in batch {
            done += 1;
            if let Some(found) = find_existing(db, user.external_id.as_deref(), &user.email).await?
            {
                report.users.unchanged += 1;
                members.push((Some(found.id), user.memberships));
                continue;
            }
            match new_user(user, now, dry_run).await {
                Ok((candidate, memberships)) => {
                    if dry_run {
                        report.users.imported += 1;
                        members.push((None, memberships));
                    } else if crate::users::store::insert(&mut *tx, &candidate).await? {
                        report.users.imported += 1;
                        members.push((Some(candidate.id), memberships));
                    } else {
                        report.rejected.push(Item {
                            realm: realm.clone(),
                            kind: "user",
                            name: candidate.email.as_str().to_owned(),
                            reason: "a user with this email already exists".into(),
                        });
                    }
                }
                Err((email, reason)) => report.rejected.push(Item {
                    realm: realm.clone(),
                    kind: "user",
                    name: email,
                    reason,
                }),
            }
        }
        tx.commit().await?;
        progress(done);
    }

    let mut tx = db.scoped(Scope::AllOrganizations, !dry_run).await?;
    for (user_id, memberships) in members {
        for (slug, role) in memberships {
            let Some(org_id) = org_ids.get(&slug) else {
                continue;
            };
            match (org_id, &user_id) {
                (Some(org_id), Some(user_id)) if !dry_run => {
                    if crate::orgs::store::insert_membership(&mut tx, org_id, user_id, &role, now)
                        .await?
                    {
                        report.memberships.imported += 1;
                    } else {
                        report.memberships.unchanged += 1;
                    }
                }
                (Some(org_id), Some(user_id)) => {
                    match crate::orgs::store::find_membership(&mut tx, org_id, user_id).await? {
                        Some(_) => report.memberships.unchanged += 1,
                        None => report.memberships.imported += 1,
                    }
                }
                _ => report.memberships.imported += 1,
            }
        }
    }
    tx.commit().await?;

    for planned in plan.applications {
        if crate::applications::store::find_by_name(db, &planned.name)
            .await?
            .is_some()
        {
            report.applications.unchanged += 1;
            continue;
        }
        report.applications.imported += 1;
        if dry_run {
            continue;
        }
        // Keycloak's secret is not carried over (it may be weak, and secrets here are random):
        // a confidential application gets a fresh one that nobody has seen; rotate it to use it.
        let secret_hash = planned.kind.is_confidential().then(|| new_secret().1);
        crate::applications::store::insert(
            db,
            &Application {
                id: new_application_id(),
                name: planned.name,
                kind: planned.kind,
                secret_hash,
                redirect_uris: planned.redirect_uris,
                post_logout_redirect_uris: Vec::new(),
                first_party: false,
                permissions: Vec::new(),
                organization_selection: OrganizationSelection::None,
                backchannel_logout_uri: None,
                allowed_cors_origins: Vec::new(),
                access_token_ttl_secs: None,
                created_at: now,
                updated_at: now,
                previous_secret: None,
            },
        )
        .await?;
    }
    Ok(report)
}

/// (organization slug, role key) pairs.
type Memberships = Vec<(String, String)>;

type NewUser = (crate::users::User, Memberships);

/// The user to insert, validated as a JSON-lines row is; a plaintext password is hashed with
/// Argon2id here (not in a dry run, which only validates).
async fn new_user(
    user: PlannedUser,
    now: UnixTime,
    dry_run: bool,
) -> Result<NewUser, (String, String)> {
    let email = user.email.clone();
    let password_hash = match user.password {
        Some(Password::Hash(hash)) => Some(hash),
        Some(Password::Plain(_)) if dry_run => None,
        Some(Password::Plain(plain)) => Some(
            tokio::task::spawn_blocking(move || {
                crate::passwords::hash_blocking(plain.expose_secret())
            })
            .await
            .map_err(|e| (email.clone(), format!("hashing the password failed: {e}")))?
            .map_err(|e| (email.clone(), format!("hashing the password failed: {e}")))?,
        ),
        None => None,
    };
    let row = ImportRow {
        email: user.email,
        password_hash,
        name: user.name,
        email_verified: user.email_verified,
        metadata: Some(user.metadata),
        external_id: user.external_id,
    };
    let mut candidate = validate(row, now).map_err(|reason| (email, reason))?;
    if !user.enabled {
        candidate.banned_until = Some(DISABLED_UNTIL);
        candidate.ban_reason = Some("disabled in Keycloak".into());
    }
    Ok((candidate, user.memberships))
}
