//! Benchmark: time and memory to converge N AuthStackInstances, and API calls per steady-state
//! reconcile, against an in-memory API server.
//!
//! `cargo run --release -p authstack-operator --example converge -- 10000 8`
//!
//! The fake API server answers server-side applies, creates, status patches, JSON patches
//! (finalizers) and events, and feeds every written object into the operator's caches at once
//! (a watch with no latency); Deployments are reported available as soon as they are applied.
//! The reconciles are the operator's own (`controller::reconcile`), `concurrency` at a time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use authstack_operator::controller::{self, Context};
use authstack_operator::crd::{
    AuthStackInstance, AuthStackInstanceSpec, DatabaseSpec, DeletionPolicy, Environment, Resources,
};
use authstack_operator::render::{Kind, Settings};
use authstack_operator::watches::Stores;
use futures::StreamExt;
use http::{Method, Request, Response};
use kube::api::DynamicObject;
use kube::client::Body;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use serde_json::{Value, json};

#[derive(Default)]
struct Counts {
    reads: AtomicU64,
    writes: AtomicU64,
}

struct FakeApi {
    writers: Mutex<HashMap<String, (Kind, Writer<DynamicObject>)>>,
    instances: Mutex<HashMap<String, Value>>,
    counts: Counts,
}

impl FakeApi {
    fn handle(&self, method: &Method, path: &str, body: Value) -> Value {
        if method == Method::GET {
            self.counts.reads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counts.writes.fetch_add(1, Ordering::Relaxed);
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // /apis/authstack.io/v1alpha1/namespaces/NS/authstackinstances/NAME[/status]
        if path.contains("/authstackinstances/") {
            let name = segments[6].to_owned();
            let mut instances = self.instances.lock().expect("lock");
            let stored = instances.entry(name).or_insert(Value::Null);
            if path.ends_with("/status") {
                stored["status"] = body["status"].clone();
            } else if let Some(ops) = body.as_array() {
                for op in ops {
                    if op["op"] == "add" && op["path"] == "/metadata/finalizers" {
                        stored["metadata"]["finalizers"] = op["value"].clone();
                    }
                }
            }
            return stored.clone();
        }
        if path.contains("/events") {
            return body;
        }
        // A namespaced object: .../namespaces/NS/PLURAL[/NAME]
        let plural = segments
            .iter()
            .position(|s| *s == "namespaces")
            .and_then(|i| segments.get(i + 2))
            .copied()
            .unwrap_or_default();
        let mut object = body;
        object["metadata"]["uid"] = json!("uid");
        object["metadata"]["resourceVersion"] = json!("1");
        object["metadata"]["generation"] = json!(1);
        if let Some(data) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
            object["data"] = data;
        }
        let mut writers = self.writers.lock().expect("lock");
        if let Some((kind, writer)) = writers.get_mut(plural) {
            if *kind == Kind::Deployment {
                let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
                object["status"] = json!({
                    "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas,
                });
            }
            if *kind == Kind::PostgresCluster {
                object["status"] = json!({ "readyInstances": 1 });
            }
            if let Ok(dynamic) = serde_json::from_value::<DynamicObject>(object.clone()) {
                writer.apply_watcher_event(&watcher::Event::Apply(dynamic));
            }
        }
        object
    }
}

fn spec(index: usize) -> AuthStackInstanceSpec {
    AuthStackInstanceSpec {
        account_id: format!("acc_{index}"),
        instance_id: format!("ins_{index}"),
        environment: if index.is_multiple_of(2) {
            Environment::Live
        } else {
            Environment::Test
        },
        revision: 1,
        config: json!({ "passwords": { "min_length": 12 } }),
        image: "ghcr.io/authstack/authstack-instance:0.1.0".into(),
        issuer: "https://api.authstack.example".into(),
        previous_issuers: Vec::new(),
        gateway_secret_ref: format!("ins-{index}-gateway"),
        replicas: 2,
        resources: Resources::default(),
        autoscaling: None,
        hostnames: Vec::new(),
        notify_email: None,
        database: DatabaseSpec::cnpg(1, "1Gi"),
        suspended: false,
        auto_rollback: true,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        deletion_policy: DeletionPolicy::Retain,
    }
}

fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let concurrency: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(8);
    let (baseline, _) = rss_mib();

    let mut writers = HashMap::new();
    let mut stores = HashMap::new();
    for kind in Kind::ALL {
        let resource = kind.api_resource();
        let mut writer = Writer::new(resource.clone());
        writer.apply_watcher_event(&watcher::Event::Init);
        writer.apply_watcher_event(&watcher::Event::InitDone);
        stores.insert(kind, writer.as_reader());
        writers.insert(resource.plural.clone(), (kind, writer));
    }
    let api = Arc::new(FakeApi {
        writers: Mutex::new(writers),
        instances: Mutex::new(HashMap::new()),
        counts: Counts::default(),
    });
    let server = api.clone();
    let service = tower::service_fn(move |request: Request<Body>| {
        let server = server.clone();
        async move {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let bytes = request
                .into_body()
                .collect_bytes()
                .await
                .unwrap_or_default();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let answer = server.handle(&method, &path, body);
            let bytes = serde_json::to_vec(&answer).unwrap_or_default();
            Ok::<_, Infallible>(Response::new(Body::from(bytes)))
        }
    });
    let client = kube::Client::new(service, "default");
    let context = Arc::new(Context::new(
        client,
        Settings::default(),
        Stores::new(stores),
        Reporter {
            controller: "authstack-operator".into(),
            instance: Some("bench".into()),
        },
    ));

    let mut instances: Vec<AuthStackInstance> = (0..count)
        .map(|index| {
            let mut instance = AuthStackInstance::new(&format!("ins-{index}"), spec(index));
            instance.metadata.namespace = Some(format!("authstack-acc-{index}"));
            instance.metadata.uid = Some(format!("uid-{index}"));
            instance.metadata.generation = Some(1);
            instance
        })
        .collect();
    api.instances
        .lock()
        .expect("lock")
        .extend(instances.iter().map(|i| {
            (
                i.metadata.name.clone().unwrap_or_default(),
                serde_json::to_value(i).unwrap_or_default(),
            )
        }));

    let started = Instant::now();
    let mut passes = Vec::new();
    for pass in 1..=3 {
        let before =
            api.counts.writes.load(Ordering::Relaxed) + api.counts.reads.load(Ordering::Relaxed);
        let pass_started = Instant::now();
        let failures = futures::stream::iter(instances.iter().cloned())
            .map(|instance| controller::reconcile(Arc::new(instance), context.clone()))
            .buffer_unordered(concurrency)
            .filter(|result| std::future::ready(result.is_err()))
            .count()
            .await;
        let calls = api.counts.writes.load(Ordering::Relaxed)
            + api.counts.reads.load(Ordering::Relaxed)
            - before;
        passes.push((pass, pass_started.elapsed(), calls, failures));
        // What the watch on AuthStackInstances would deliver: finalizers and status.
        let stored = api.instances.lock().expect("lock");
        for instance in &mut instances {
            if let Some(value) = stored.get(instance.metadata.name.as_deref().unwrap_or_default()) {
                if let Some(finalizers) = value["metadata"]["finalizers"].as_array() {
                    instance.metadata.finalizers = Some(
                        finalizers
                            .iter()
                            .filter_map(|f| f.as_str().map(str::to_owned))
                            .collect(),
                    );
                }
                if !value["status"].is_null() {
                    instance.status = serde_json::from_value(value["status"].clone()).ok();
                }
            }
        }
    }
    let converged = started.elapsed();
    let ready = instances
        .iter()
        .filter(|i| i.status.as_ref().and_then(|s| s.phase).map(|p| p.as_str()) == Some("Ready"))
        .count();
    let (rss, peak) = rss_mib();
    println!("instances: {count}, concurrency: {concurrency}");
    for (pass, elapsed, calls, failures) in &passes {
        println!(
            "pass {pass}: {:.2} s, {calls} API calls ({:.2}/instance), {failures} failed reconciles",
            elapsed.as_secs_f64(),
            *calls as f64 / count as f64
        );
    }
    println!(
        "converged (passes 1-2) in {:.2} s; {ready}/{count} Ready; RSS {rss:.0} MiB (peak {peak:.0} MiB, {baseline:.0} MiB at start)",
        (passes[0].1 + passes[1].1).as_secs_f64()
    );
    println!("total {:.2} s", converged.as_secs_f64());
    Ok(())
}
