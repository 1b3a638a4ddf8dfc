//! Reading a domain's verification record: the TXT values at a name, from the system's resolver
//! or from one nameserver (`--dns-nameserver host:port`).
//!
//! A resolver is built per lookup and asked once: a customer who just created the record and
//! retries must not be answered from a cached "no such record".

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// How long one lookup may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The TXT values at `name` (each record's strings joined, as RFC 7208 reads them); empty
/// when the name or its TXT records do not exist. An error when no nameserver answered.
pub async fn txt_values(nameserver: Option<SocketAddr>, name: &str) -> anyhow::Result<Vec<String>> {
    let resolver = resolver(nameserver)?;
    // Fully qualified: the system's search domains are not tried.
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let lookup = match resolver.txt_lookup(fqdn.as_str()).await {
        Ok(lookup) => lookup,
        Err(err) if err.is_no_records_found() || err.is_nx_domain() => return Ok(Vec::new()),
        Err(err) => return Err(anyhow::anyhow!("{err}")),
    };
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect())
}

fn resolver(nameserver: Option<SocketAddr>) -> anyhow::Result<TokioResolver> {
    let mut builder = match nameserver {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio()
            .map_err(|err| anyhow::anyhow!("reading the system's resolver configuration: {err}"))?,
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = TIMEOUT;
    options.attempts = 1;
    options.cache_size = 0;
    builder
        .build()
        .map_err(|err| anyhow::anyhow!("building the DNS resolver: {err}"))
}
