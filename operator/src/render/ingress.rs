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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_domain_gets_an_ingress_rule_and_a_tls_host_leading_to_the_gateway() {
        let mut instance = AuthStackInstance::test();
        instance.spec.hostnames = vec!["auth.customer.example".into()];
        let objects = ingress(&instance, &Settings::default());
        let edge = objects
            .iter()
            .find(|o| o.kind == Kind::Service)
            .expect("the edge service");
        assert_eq!(
            edge.object["spec"]["externalName"],
            "authstack-gateway.authstack-system.svc.cluster.local"
        );
        let ingress = objects
            .iter()
            .find(|o| o.kind == Kind::Ingress)
            .expect("an ingress");
        let spec = &ingress.object["spec"];
        assert_eq!(spec["tls"][0]["hosts"], json!(["auth.customer.example"]));
        assert_eq!(spec["rules"][0]["host"], "auth.customer.example");
        assert_eq!(
            spec["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            edge.name
        );
        assert_eq!(
            ingress.object["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
            "letsencrypt"
        );
        // Without a domain the operator renders no Ingress at all.
        let plain = AuthStackInstance::test();
        assert!(
            super::super::render(
                &plain,
                &Settings::default(),
                super::super::Target {
                    revision: 1,
                    from_spec: true
                }
            )
            .expect("render")
            .iter()
            .all(|o| o.kind != Kind::Ingress)
        );
    }
}
