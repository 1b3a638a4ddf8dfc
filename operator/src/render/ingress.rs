//! Custom hostnames: an Ingress (TLS from cert-manager) to the gateway.

use serde_json::{Value, json};

use super::{Desired, Kind, Names, Settings, name, object};
use crate::crd::AuthStackInstance;

/// Custom hostnames: TLS at the ingress controller (certificate from cert-manager), then the
/// gateway, which is the only way into an instance.
pub(super) fn ingress(instance: &AuthStackInstance, settings: &Settings) -> Vec<Desired> {
    let names = Names(name(instance));
    let hosts = &instance.spec.hostnames;
    let rules: Vec<Value> = hosts
        .iter()
        .map(|host| {
            json!({
                "host": host,
                "http": { "paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": { "service": { "name": names.edge_service(), "port": { "number": 80 } } },
                }]},
            })
        })
        .collect();
    vec![
        object(
            Kind::Service,
            names.edge_service(),
            json!({ "spec": {
                "type": "ExternalName",
                "externalName": format!(
                    "{}.{}.svc.cluster.local",
                    settings.gateway_service, settings.gateway_namespace
                ),
                "ports": [{ "name": "http", "port": 80, "protocol": "TCP" }],
            }}),
            instance,
        ),
        object(
            Kind::Ingress,
            name(instance).to_owned(),
            json!({
                "metadata": { "annotations": {
                    "cert-manager.io/cluster-issuer": settings.cluster_issuer,
                }},
                "spec": {
                    "ingressClassName": settings.ingress_class,
                    "tls": [{ "hosts": hosts, "secretName": format!("{}-tls", name(instance)) }],
                    "rules": rules,
                },
            }),
            instance,
        ),
    ]
}
