//! Tests: local_provisioner.
