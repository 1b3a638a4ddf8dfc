//! The local provisioner.
