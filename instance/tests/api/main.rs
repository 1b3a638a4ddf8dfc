//! The instance's HTTP API, end to end, on SQLite and (when configured) PostgreSQL.

mod helpers;

mod admin;
mod applications;
mod auth;
mod cli;
mod config;
mod emails;
mod faults;
mod invitations;
mod isolation;
mod login_limits;
mod mail;
mod me;
mod oidc;
mod oidc_choose_org;
mod oidc_consent;
mod oidc_cors;
mod oidc_grants;
mod oidc_logout;
mod oidc_look;
mod oidc_machine;
mod oidc_orgs;
mod oidc_signup;
mod oidc_support;
mod oidc_token;
mod ops;
mod org_audit;
mod orgs;
mod pages;
mod passwords;
mod process;
mod requests;
mod shared_limits;
mod tokens;
mod usage;
