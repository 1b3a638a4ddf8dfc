//! Policies: what must hold after the first factor before a flow completes. Each is one
//! [`Policy`] registered in [`POLICIES`] and checked in order; MFA and SSO enforcement are
//! further policies (they answer [`Verdict::Step`] to ask for more input).

use super::factors::BoxFuture;
use crate::AppState;
use crate::error::{Error, Result};
use crate::users::User;

/// The registered policies, checked in this order.
pub static POLICIES: &[&dyn Policy] = &[&EmailVerification];

/// A policy's answer for a user who passed the first factor.
#[derive(Debug)]
pub enum Verdict {
    Satisfied,
    /// The flow ends with this error.
    Refused(Error),
    /// The flow waits for another step (named here) before it can complete.
    Step(&'static str),
}

pub trait Policy: Sync {
    fn name(&self) -> &'static str;
    /// `amr` holds the methods used so far in the flow.
    fn check<'a>(
        &'a self,
        app: &'a AppState,
        user: &'a User,
        amr: &'a [String],
    ) -> BoxFuture<'a, Result<Verdict>>;
}

/// `auth.require_email_verification`: an unverified address cannot sign in.
pub struct EmailVerification;

impl Policy for EmailVerification {
    fn name(&self) -> &'static str {
        "email_verification"
    }

    fn check<'a>(
        &'a self,
        app: &'a AppState,
        user: &'a User,
        _amr: &'a [String],
    ) -> BoxFuture<'a, Result<Verdict>> {
        Box::pin(async move {
            Ok(
                match crate::auth::password::ensure_email_verified(app, user) {
                    Ok(()) => Verdict::Satisfied,
                    Err(err) => Verdict::Refused(err),
                },
            )
        })
    }
}
