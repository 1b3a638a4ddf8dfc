//! The instance's HTTP API, end to end, on SQLite and (when configured) PostgreSQL.

mod helpers;

mod admin;
mod auth;
mod cli;
mod mail;
mod me;
mod ops;
mod passwords;
mod tokens;
