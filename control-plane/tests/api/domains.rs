//! Custom domains: set on a plan that includes them, verified by a TXT record that a real DNS
//! server (dnsmasq on loopback) answers, then routed by `Host` at the gateway with the domain as
//! the instance's issuer; removing it restores the address.
//!
//! - `a_domain_is_pending_until_its_txt_record_is_verified`
//! - `a_verified_domain_is_routed_by_host_and_becomes_the_issuer`
//! - `the_hosted_pages_answer_at_the_domain_and_keyed_paths_still_need_a_key`
//! - `the_address_issuer_stays_accepted_and_applications_show_the_domains`
//! - `removing_the_domain_restores_the_address`
//! - `verification_fails_while_the_record_is_missing_or_holds_another_value`
//! - `custom_domains_need_a_plan_that_includes_them`
//! - `a_domain_belongs_to_one_instance`
//! - `only_host_names_outside_the_gateway_are_accepted`
//! - `only_roles_that_manage_instances_set_a_domain`

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::helpers::{
    Owner, Reply, TestPlatform, spawn_platform, spawn_platform_with, test_config,
};

const DOMAIN: &str = "auth.customer.test";

/// A dnsmasq answering TXT records on a loopback port, and nothing else (no upstream, no hosts
/// file): names under the records' domains that it was not given are NXDOMAIN. Killed by PID
/// when dropped.
struct Dns {
    child: Child,
}

impl Dns {
    /// Starts dnsmasq on `addr` with `records` (name, value) and waits until it answers.
    fn start(addr: SocketAddr, records: &[(&str, &str)]) -> Dns {
        let mut command = Command::new(dnsmasq());
        command.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            &format!("--port={}", addr.port()),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            &format!("--local=/{DOMAIN}/"),
        ]);
        for (name, value) in records {
            command.arg(format!("--txt-record={name},{value}"));
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq starts (scripts/test installs dnsmasq-base)");
        let dns = Dns { child };
        dns.wait_until_answering(addr);
        dns
    }

    fn wait_until_answering(&self, addr: SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        // A TXT query for `_authstack-challenge.auth.customer.test`.
        let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in format!("_authstack-challenge.{DOMAIN}").split('.') {
            query.push(label.len() as u8);
            query.extend_from_slice(label.as_bytes());
        }
        query.extend_from_slice(&[0, 0, 16, 0, 1]);
        let started = Instant::now();
        let mut buffer = [0u8; 512];
        loop {
            if socket.send_to(&query, addr).is_ok() && socket.recv_from(&mut buffer).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "dnsmasq does not answer on {addr}"
            );
        }
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dnsmasq() -> &'static str {
    if std::path::Path::new("/usr/sbin/dnsmasq").exists() {
        "/usr/sbin/dnsmasq"
    } else {
        "dnsmasq"
    }
}

/// A loopback address whose UDP and TCP ports were free a moment ago.
fn free_dns_address() -> SocketAddr {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        let addr = udp.local_addr().expect("address");
        if std::net::TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// A platform whose domain verification asks the nameserver at the returned address.
async fn platform_with_dns() -> (TestPlatform, SocketAddr) {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    let dns = free_dns_address();
    config.dns_nameserver = Some(dns);
    (spawn_platform_with(dir, config).await, dns)
}

fn domain_path(owner: &Owner, env: &str) -> String {
    format!("/v1/accounts/{}/instances/{env}/domain", owner.account_id)
}

async fn set_domain(platform: &TestPlatform, owner: &Owner, env: &str, domain: &str) -> Reply {
    platform
        .put(
            &domain_path(owner, env),
            &owner.token,
            json!({ "domain": domain }),
        )
        .await
}

async fn verify(platform: &TestPlatform, owner: &Owner) -> Reply {
    platform
        .post_empty(
            &format!("{}/verify", domain_path(owner, "live")),
            &owner.token,
        )
        .await
}

/// The discovery document through the gateway, sent with `Host: host` (an address path or the
/// root path).
async fn discovery(platform: &TestPlatform, host: Option<&str>, path: &str) -> Reply {
    let mut request = platform.client.get(format!(
        "{}{path}/.well-known/openid-configuration",
        platform.gateway
    ));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    platform.send(request).await
}

/// Polls the discovery document at `path` (with `host`) until its issuer is `issuer`: the
/// instance restarts with a new issuer.
async fn wait_for_issuer(platform: &TestPlatform, host: Option<&str>, path: &str, issuer: &str) {
    let started = Instant::now();
    loop {
        let reply = discovery(platform, host, path).await;
        if reply.status == 200 && reply.body["issuer"] == issuer {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the issuer did not become {issuer}: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn gateway_port(platform: &TestPlatform) -> u16 {
    platform
        .gateway
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("gateway port")
}

/// A live customer on pro whose domain is set (pending), with what the tests compare.
struct Domain {
    platform: TestPlatform,
    owner: Owner,
    live_id: String,
    /// `auth.customer.test:<gateway port>`, the `Host` the gateway routes.
    host: String,
    /// `http://auth.customer.test:<gateway port>`.
    issuer: String,
    /// `/i/<live id>`, the instance's address on the gateway.
    address: String,
    /// The TXT record's value.
    token: String,
    dns: SocketAddr,
}

impl Domain {
    async fn set(email: &str) -> Domain {
        let (platform, dns) = platform_with_dns().await;
        let (owner, live_id, _key) = platform.live_customer(email, "pro").await;
        let port = gateway_port(&platform);
        let set = set_domain(&platform, &owner, "live", "Auth.Customer.Test").await;
        set.assert_ok(200);
        let token = set.body["verification"]["value"]
            .as_str()
            .expect("a token")
            .to_owned();
        Domain {
            platform,
            owner,
            address: format!("/i/{live_id}"),
            live_id,
            host: format!("{DOMAIN}:{port}"),
            issuer: format!("http://{DOMAIN}:{port}"),
            token,
            dns,
        }
    }

    /// Answers the TXT record, verifies, and waits until the instance's issuer is the domain.
    async fn verified(email: &str) -> (Domain, Dns) {
        let domain = Domain::set(email).await;
        let dns = domain.answer();
        verify(&domain.platform, &domain.owner).await.assert_ok(200);
        let (platform, host) = (&domain.platform, Some(domain.host.as_str()));
        wait_for_issuer(platform, host, "", &domain.issuer).await;
        (domain, dns)
    }

    /// dnsmasq with the domain's TXT record.
    fn answer(&self) -> Dns {
        let name = format!("_authstack-challenge.{DOMAIN}");
        Dns::start(self.dns, &[(&name, &self.token)])
    }

    /// The instance's issuer under its address on the gateway.
    fn address_issuer(&self) -> String {
        format!("{}{}", self.platform.gateway, self.address)
    }

    /// A gateway request for `path` with the domain as `Host`.
    fn at_domain(&self, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.platform.gateway);
        self.platform.client.get(url).header("host", &self.host)
    }
}

#[tokio::test]
async fn a_domain_is_pending_until_its_txt_record_is_verified() {
    let (platform, dns) = platform_with_dns().await;
    let (owner, _, _key) = platform.live_customer("pending@customer.test", "pro").await;
    let port = gateway_port(&platform);
    let set = set_domain(&platform, &owner, "live", "Auth.Customer.Test").await;
    set.assert_ok(200);
    assert_eq!(set.body["domain"], DOMAIN);
    assert_eq!(set.body["status"], "pending");
    assert_eq!(set.body["issuer"], format!("http://{DOMAIN}:{port}"));
    assert_eq!(set.body["verification"]["type"], "TXT");
    let name = format!("_authstack-challenge.{DOMAIN}");
    assert_eq!(set.body["verification"]["name"], name);
    let token = set.body["verification"]["value"].as_str().expect("a token");
    assert!(token.len() >= 20, "{token}");
    // Pending: the Host is not routed yet.
    let host = format!("{DOMAIN}:{port}");
    discovery(&platform, Some(&host), "")
        .await
        .assert_error(401, "invalid_api_key");

    let _dns = Dns::start(dns, &[(&name, token)]);
    let verified = verify(&platform, &owner).await;
    verified.assert_ok(200);
    assert_eq!(verified.body["status"], "verified");
    let verified_at = &verified.body["verified_at"];
    assert!(verified_at.is_string(), "{}", verified.body);
    let shown = platform
        .get(&domain_path(&owner, "live"), &owner.token)
        .await;
    shown.assert_ok(200);
    assert_eq!(shown.body["status"], "verified");
}

/// The instance restarts with the domain as its issuer; the gateway serves it at the root path
/// of the domain, exactly as under its address.
#[tokio::test]
async fn a_verified_domain_is_routed_by_host_and_becomes_the_issuer() {
    let (domain, _dns) = Domain::verified("routed@customer.test").await;
    let platform = &domain.platform;
    let document = discovery(platform, Some(&domain.host), "").await;
    assert_eq!(
        document.body["authorization_endpoint"],
        format!("{}/oauth2/authorize", domain.issuer)
    );
    wait_for_issuer(platform, None, &domain.address, &domain.issuer).await;
    let jwks = platform
        .send(domain.at_domain("/.well-known/jwks.json"))
        .await;
    jwks.assert_ok(200);
    assert!(jwks.body["keys"].is_array(), "{}", jwks.body);
}

#[tokio::test]
async fn the_hosted_pages_answer_at_the_domain_and_keyed_paths_still_need_a_key() {
    let (domain, _dns) = Domain::verified("pages@customer.test").await;
    let platform = &domain.platform;
    // As under the address.
    for page in ["/login", "/oauth2/authorize?client_id=nope"] {
        let at_domain = domain.at_domain(page).send().await.expect("page");
        let at_address = format!("{}{}{page}", platform.gateway, domain.address);
        let at_address = platform.client.get(at_address).send().await.expect("page");
        assert_eq!(at_domain.status(), at_address.status(), "{page}");
        assert_ne!(at_domain.status().as_u16(), 401, "{page}");
    }
    platform
        .send(domain.at_domain("/v1/admin/users"))
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn the_address_issuer_stays_accepted_and_applications_show_the_domains() {
    let (domain, _dns) = Domain::verified("issuers@customer.test").await;
    let (platform, owner) = (&domain.platform, &domain.owner);
    let instance_dir = platform.instance_dir(&domain.live_id);
    let pid = crate::helpers::serving_pid(&instance_dir).expect("serving");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let cmdline = String::from_utf8_lossy(&cmdline);
    let flag = format!("--issuer={}", domain.issuer);
    assert!(cmdline.contains(&flag), "{cmdline}");
    assert!(cmdline.contains(&domain.address_issuer()), "{cmdline}");
    // Applications show the issuer their tokens carry.
    let applications = owner.instance("live", "/applications");
    let applications = platform.get(&applications, &owner.token).await;
    applications.assert_ok(200);
    assert_eq!(applications.body["issuer"], domain.issuer.as_str());
    assert_eq!(
        applications.body["discovery_url"],
        format!("{}/.well-known/openid-configuration", domain.issuer)
    );
}

#[tokio::test]
async fn removing_the_domain_restores_the_address() {
    let (domain, _dns) = Domain::verified("removed@customer.test").await;
    let (platform, owner) = (&domain.platform, &domain.owner);
    let path = domain_path(owner, "live");
    let removed = platform.delete(&path, &owner.token).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    platform
        .get(&path, &owner.token)
        .await
        .assert_error(404, "not_found");
    let address_issuer = domain.address_issuer();
    wait_for_issuer(platform, None, &domain.address, &address_issuer).await;
    discovery(platform, Some(&domain.host), "")
        .await
        .assert_error(401, "invalid_api_key");
    platform
        .delete(&path, &owner.token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn verification_fails_while_the_record_is_missing_or_holds_another_value() {
    let (platform, dns) = platform_with_dns().await;
    let owner = platform.owner("missing@customer.test").await;
    platform.subscribe(&owner, "pro").await;
    verify(&platform, &owner)
        .await
        .assert_error(404, "not_found");
    let set = set_domain(&platform, &owner, "live", DOMAIN).await;
    set.assert_ok(200);
    let token = set.str_at(&["verification", "value"]);
    let name = format!("_authstack-challenge.{DOMAIN}");

    {
        // The server answers, but not for the challenge.
        let _dns = Dns::start(dns, &[(&format!("other.{DOMAIN}"), "x")]);
        let refused = verify(&platform, &owner).await;
        refused.assert_error(409, "domain_not_verified");
        let message = refused.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&name) && message.contains(&token),
            "{message}"
        );
    }
    {
        let _dns = Dns::start(dns, &[(&name, "asd_someone_elses_token")]);
        let refused = verify(&platform, &owner).await;
        refused.assert_error(409, "domain_not_verified");
        let message = refused.body["message"].as_str().unwrap_or_default();
        assert!(message.contains("asd_someone_elses_token"), "{message}");
    }
    // No server at all.
    let refused = verify(&platform, &owner).await;
    refused.assert_error(409, "domain_not_verified");
    let shown = platform
        .get(&domain_path(&owner, "live"), &owner.token)
        .await;
    assert_eq!(shown.body["status"], "pending");

    // Setting the same domain again keeps its token; the record then verifies it.
    let again = set_domain(&platform, &owner, "live", DOMAIN).await;
    assert_eq!(again.str_at(&["verification", "value"]), token);
    let _dns = Dns::start(dns, &[(&name, &token)]);
    verify(&platform, &owner).await.assert_ok(200);
}

#[tokio::test]
async fn custom_domains_need_a_plan_that_includes_them() {
    let platform = spawn_platform().await;
    let owner = platform.owner("starter@customer.test").await;
    platform.subscribe(&owner, "starter").await;
    set_domain(&platform, &owner, "live", DOMAIN)
        .await
        .assert_error(403, "plan_feature");
    platform
        .get(&domain_path(&owner, "live"), &owner.token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn a_domain_belongs_to_one_instance() {
    let platform = spawn_platform().await;
    let owner = platform.owner("first@customer.test").await;
    platform.subscribe(&owner, "pro").await;
    set_domain(&platform, &owner, "live", DOMAIN)
        .await
        .assert_ok(200);
    set_domain(&platform, &owner, "test", DOMAIN)
        .await
        .assert_error(409, "domain_taken");
    let other = platform.owner("second@other.test").await;
    platform.subscribe(&other, "pro").await;
    set_domain(&platform, &other, "live", "AUTH.customer.test.")
        .await
        .assert_error(409, "domain_taken");
    // Another name is free; replacing the first frees it.
    set_domain(&platform, &other, "live", "login.other.test")
        .await
        .assert_ok(200);
    set_domain(&platform, &owner, "live", "id.customer.test")
        .await
        .assert_ok(200);
    set_domain(&platform, &owner, "test", DOMAIN)
        .await
        .assert_ok(200);
}

#[tokio::test]
async fn only_host_names_outside_the_gateway_are_accepted() {
    let platform = spawn_platform().await;
    let owner = platform.owner("names@customer.test").await;
    platform.subscribe(&owner, "pro").await;
    for bad in [
        "",
        "localhost",
        "127.0.0.1",
        "[::1]",
        "auth..customer.test",
        "-auth.customer.test",
        "auth_customer.test",
        "https://auth.customer.test",
        "auth.customer.test/login",
        "auth.customer.test:8443",
    ] {
        set_domain(&platform, &owner, "live", bad)
            .await
            .assert_error(400, "invalid_request");
    }
    platform
        .put(
            &domain_path(&owner, "live"),
            &owner.token,
            json!({ "domain": DOMAIN, "extra": true }),
        )
        .await
        .assert_error(400, "invalid_request");
    platform
        .put(
            &domain_path(&owner, "staging"),
            &owner.token,
            json!({ "domain": DOMAIN }),
        )
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn only_roles_that_manage_instances_set_a_domain() {
    let platform = spawn_platform().await;
    let owner = platform.owner("roles@customer.test").await;
    platform.subscribe(&owner, "pro").await;
    let viewer = join_as(&platform, &owner, "viewer@customer.test", "viewer").await;
    let as_viewer = platform
        .put(
            &domain_path(&owner, "live"),
            &viewer,
            json!({ "domain": DOMAIN }),
        )
        .await;
    as_viewer.assert_error(403, "forbidden");
    let admin = join_as(&platform, &owner, "admin@customer.test", "admin").await;
    let as_admin = platform
        .put(
            &domain_path(&owner, "live"),
            &admin,
            json!({ "domain": DOMAIN }),
        )
        .await;
    as_admin.assert_ok(200);
    // Readers see it; another account's owner does not.
    platform
        .get(&domain_path(&owner, "live"), &viewer)
        .await
        .assert_ok(200);
    let stranger = platform.owner("stranger@else.test").await;
    platform
        .get(&domain_path(&owner, "live"), &stranger.token)
        .await
        .assert_error(404, "not_found");
}

trait At {
    fn str_at(&self, path: &[&str]) -> String;
}

impl At for Reply {
    fn str_at(&self, path: &[&str]) -> String {
        let mut value: &Value = &self.body;
        for key in path {
            value = &value[key];
        }
        value
            .as_str()
            .unwrap_or_else(|| panic!("no string at {path:?} in {}", self.body))
            .to_owned()
    }
}
