//! `authstack dev` as a newcomer starts it: `dev.json` and the banner name a ready example
//! application of the demo account's live instance, which a standard OpenID Connect client
//! signs a user in to through the gateway with nothing else.
//!
//! - `dev_names_an_example_application_that_signs_a_user_in`

use authstack_control_plane::dev::DevInfo;

use crate::faults::{Dev, InstancesKilledOnDrop, create_user, free_address};
use crate::helpers::{PASSWORD, install_tls_provider};
use crate::oidc_flow::{self, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_names_an_example_application_that_signs_a_user_in() {
    install_tls_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let _cleanup = InstancesKilledOnDrop(dir.path());
    let dev = Dev::start(dir.path(), &free_address(), &free_address()).await;
    let info: DevInfo =
        serde_json::from_slice(&std::fs::read(dir.path().join("dev.json")).expect("dev.json"))
            .expect("dev.json parses");
    let example = info
        .demo
        .example_application
        .clone()
        .expect("an example application in dev.json");
    let banner = std::fs::read_to_string(dir.path().join("banner.txt")).expect("banner");
    for shown in [&example.issuer, &example.client_id, &example.redirect_uri] {
        assert!(
            banner.contains(shown.as_str()),
            "{shown} not in the banner:\n{banner}"
        );
    }
    let live = info
        .instances
        .iter()
        .find(|i| i.name.ends_with(" live") && i.name != "platform")
        .expect("the demo live instance");
    assert_eq!(example.issuer, live.issuer);
    assert_eq!(example.redirect_uri, "http://localhost:3000/callback");

    create_user(&info.gateway_url, &info.demo.secret_key, "ada@example.com").await;
    let client = Client {
        id: &example.client_id,
        secret: &example.client_secret,
        redirect_uri: &example.redirect_uri,
    };
    let userinfo = oidc_flow::sign_in(&example.issuer, &client, "ada@example.com", PASSWORD).await;
    assert_eq!(userinfo["email"], "ada@example.com", "{userinfo}");
    dev.stop().await;
}
