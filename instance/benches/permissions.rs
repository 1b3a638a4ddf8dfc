//! The in-process cost of permission checks (`cargo bench -p authstack-instance --bench
//! permissions`; see docs/benchmarks.md, "Organizations").
//!
//! - `allows/*`: [`Access::allows`], the check every organization-scoped request makes once its
//!   membership is resolved, with the default catalogue (12 permissions) and with a large one
//!   (12 built-in + 500 custom permissions, all granted to `member`).
//! - `explain/*`: [`explain`], the answer of `GET /v1/organizations/{id}/permissions/check`
//!   (allowed, denied with the list of roles that would grant it, unknown permission). It needs
//!   an `App`, so this benchmark starts a real instance on SQLite in a temporary directory
//!   (listening on 127.0.0.1, port chosen by the OS, never sent a request).
//! - `guardrail/*`: [`rbac::missing`], the "cannot hand out what you do not hold" check.
//! - `resolve_and_check/*`: for context, the whole per-request authorization without HTTP: a
//!   read transaction scoped to the organization, [`orgs::resolve`] (organization, membership,
//!   and for a custom role the role row) and `require`, on the instance's SQLite database.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::sync::Arc;

use authstack_instance::clock::Clock;
use authstack_instance::config::{OrganizationsConfig, ServerConfig};
use authstack_instance::db::Scope;
use authstack_instance::orgs::routes::explain;
use authstack_instance::orgs::{self, Access, Organization};
use authstack_instance::rbac::{self, Catalogue, Role};
use authstack_instance::{App, Running};
use criterion::{Criterion, criterion_group, criterion_main};

fn organization() -> Organization {
    Organization {
        id: format!("org_{}", uuid::Uuid::now_v7().simple()),
        name: "Bench Org".into(),
        slug: "bench-org".into(),
        logo_url: None,
        branding: serde_json::json!({}),
        settings: serde_json::json!({}),
        created_by: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn access(catalogue: &Catalogue, organization: Organization, role: &str) -> Access {
    Access {
        organization,
        actor_id: "usr_bench".into(),
        membership_id: Some("mem_bench".into()),
        role: Role {
            key: role.into(),
            name: role.into(),
            builtin: true,
            permissions: catalogue
                .builtin_role(role)
                .cloned()
                .expect("a built-in role"),
        },
    }
}

fn large_catalogue() -> Catalogue {
    let permissions: Vec<String> = (0..500).map(|i| format!("resource-{i:03}:use")).collect();
    let mut config = OrganizationsConfig {
        permissions: permissions.clone(),
        ..Default::default()
    };
    config.role_grants.member = permissions;
    Catalogue::from_config(&config).expect("valid catalogue")
}

fn bench_allows(c: &mut Criterion) {
    let default = Catalogue::from_config(&OrganizationsConfig::default()).expect("catalogue");
    let large = large_catalogue();
    let member = access(&default, organization(), "member");
    let owner = access(&default, organization(), "owner");
    let large_member = access(&large, organization(), "member");

    let mut group = c.benchmark_group("allows");
    group.bench_function("member_granted_members_read", |b| {
        b.iter(|| black_box(&member).allows(black_box("members:read")))
    });
    group.bench_function("member_denied_billing_manage", |b| {
        b.iter(|| black_box(&member).allows(black_box("billing:manage")))
    });
    group.bench_function("owner_granted_organization_delete", |b| {
        b.iter(|| black_box(&owner).allows(black_box("organization:delete")))
    });
    group.bench_function("large_catalogue_member_granted", |b| {
        b.iter(|| black_box(&large_member).allows(black_box("resource-377:use")))
    });
    group.bench_function("large_catalogue_member_denied", |b| {
        b.iter(|| black_box(&large_member).allows(black_box("billing:manage")))
    });
    group.finish();

    let mut group = c.benchmark_group("guardrail");
    let admin_perms = default.builtin_role("admin").expect("admin").clone();
    let owner_perms = default.builtin_role("owner").expect("owner").clone();
    let member_perms = default.builtin_role("member").expect("member").clone();
    group.bench_function("admin_grants_member_ok", |b| {
        b.iter(|| rbac::missing(black_box(&admin_perms), black_box(&member_perms)).len())
    });
    group.bench_function("admin_grants_owner_missing_2", |b| {
        b.iter(|| rbac::missing(black_box(&admin_perms), black_box(&owner_perms)).len())
    });
    let large_owner = large.builtin_role("owner").expect("owner").clone();
    let large_member_perms = large.builtin_role("member").expect("member").clone();
    group.bench_function("large_catalogue_owner_grants_member_ok", |b| {
        b.iter(|| rbac::missing(black_box(&large_owner), black_box(&large_member_perms)).len())
    });
    group.finish();
}

/// A running instance on SQLite in a temporary directory, with one user who is a member
/// (built-in role) of one organization and holds a custom role in another.
struct Fixture {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    running: Running,
    user_id: String,
    builtin_org: String,
    custom_org: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = ServerConfig::embedded(dir.path());
    config.listen = ([127, 0, 0, 1], 0).into();
    let running = rt
        .block_on(authstack_instance::start(config, Clock::System))
        .expect("start an instance");
    let user_id = format!("usr_{}", uuid::Uuid::now_v7().simple());
    let first = organization();
    let second = Organization {
        slug: "bench-org-2".into(),
        ..organization()
    };
    rt.block_on(async {
        let app = &running.app;
        sqlx::query(
            "INSERT INTO users (id, email, email_normalized, email_verified_at, metadata, created_at, updated_at) \
             VALUES ($1, 'bench@example.com', 'bench@example.com', 0, '{}', 0, 0)",
        )
        .bind(&user_id)
        .execute(&app.db.writer)
        .await
        .expect("insert user");
        let mut tx = app
            .db
            .scoped(Scope::AllOrganizations, true)
            .await
            .expect("tx");
        assert!(orgs::store::insert(&mut tx, &first).await.expect("org"));
        assert!(orgs::store::insert(&mut tx, &second).await.expect("org"));
        orgs::store::insert_membership(&mut tx, &first.id, &user_id, "member", 0)
            .await
            .expect("membership");
        orgs::store::insert_membership(&mut tx, &second.id, &user_id, "support", 0)
            .await
            .expect("membership");
        let permissions: BTreeSet<String> = ["organization:read", "members:read", "audit:read"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let role = rbac::store::CustomRole {
            id: format!("rol_{}", uuid::Uuid::now_v7().simple()),
            organization_id: second.id.clone(),
            key: "support".into(),
            name: "Support".into(),
            description: None,
            permissions,
            created_at: 0,
            updated_at: 0,
        };
        assert!(rbac::store::insert(&mut tx, &role).await.expect("role"));
        tx.commit().await.expect("commit");
    });
    Fixture {
        _dir: dir,
        rt,
        running,
        user_id,
        builtin_org: first.id,
        custom_org: second.id,
    }
}

async fn resolve_and_check(app: &App, org_id: &str, user_id: &str, permission: &str) -> bool {
    let mut tx = app
        .db
        .scoped(Scope::Organization(org_id), false)
        .await
        .expect("tx");
    let access = orgs::resolve(app, &mut tx, org_id, user_id)
        .await
        .expect("resolve")
        .expect("a member");
    tx.commit().await.expect("commit");
    access.require(permission).is_ok()
}

fn bench_with_app(c: &mut Criterion) {
    let f = fixture();
    let app: &Arc<App> = &f.running.app;
    let member = access(&app.rbac, organization(), "member");

    let mut group = c.benchmark_group("explain");
    group.bench_function("granted", |b| {
        b.iter(|| {
            explain(
                app,
                black_box(&member),
                black_box("members:read"),
                "usr_x".into(),
            )
        })
    });
    group.bench_function("denied_lists_granting_roles", |b| {
        b.iter(|| {
            explain(
                app,
                black_box(&member),
                black_box("billing:manage"),
                "usr_x".into(),
            )
        })
    });
    group.bench_function("unknown_permission", |b| {
        b.iter(|| {
            explain(
                app,
                black_box(&member),
                black_box("projects:create"),
                "usr_x".into(),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("resolve_and_check_sqlite");
    group.bench_function("builtin_role", |b| {
        b.iter(|| {
            f.rt.block_on(resolve_and_check(
                app,
                &f.builtin_org,
                &f.user_id,
                "members:read",
            ))
        })
    });
    group.bench_function("custom_role", |b| {
        b.iter(|| {
            f.rt.block_on(resolve_and_check(
                app,
                &f.custom_org,
                &f.user_id,
                "audit:read",
            ))
        })
    });
    group.finish();

    let Fixture { rt, running, .. } = f;
    rt.block_on(running.stop()).expect("stop");
}

criterion_group!(benches, bench_allows, bench_with_app);
criterion_main!(benches);
