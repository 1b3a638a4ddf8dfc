//! The Helm chart's CustomResourceDefinition is the one `crdgen` prints (`scripts/generate`
//! writes it). This also makes `cargo test` build `crdgen` alongside the other binaries, so
//! `scripts/test` generates every file from one build.

use std::process::Command;

#[test]
fn the_charts_crd_is_the_generated_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_crdgen"))
        .output()
        .expect("crdgen runs");
    assert!(out.status.success(), "crdgen failed: {out:?}");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../charts/authstack/crds/authstackinstances.authstack.io.yaml"
    );
    let committed = std::fs::read(path).expect("the chart's CRD file exists");
    assert!(
        committed == out.stdout,
        "{path} differs from crdgen's output: run scripts/generate and commit"
    );
}
