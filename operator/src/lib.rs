//! The AuthStack operator: reconciles `AuthStackInstance` resources (see [`crd`]) into the
//! Kubernetes objects of one isolated AuthStack instance (see [`render`]), follows rollouts
//! and rolls back failed ones (see [`status`], [`controller`]).

pub mod controller;
pub mod crd;
pub mod drift;
pub mod events;
pub mod ratelimit;
pub mod render;
pub mod server;
pub mod status;
pub mod watches;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod scenarios;

pub use crd::{AuthStackInstance, AuthStackInstanceSpec, AuthStackInstanceStatus};
