//! The files of an instance directory: the spec digest, configurations, ports, pids and the
//! rotated log.

use super::*;

/// What an instance is started with: a change in any of it means a restart. Secrets enter as
/// SHA-256 of high-entropy values, which reveals nothing about them.
pub(super) fn spec_digest(spec: &InstanceSpec) -> anyhow::Result<String> {
    // Through serde_json::Value, whose maps are sorted: the same config gives the same bytes.
    let config = serde_json::to_vec(&serde_json::to_value(&spec.config)?)?;
    let revision = spec.revision.to_string();
    let mut hasher = Sha256::new();
    for part in [
        revision.as_bytes(),
        spec.issuer.as_bytes(),
        spec.previous_issuers.join(",").as_bytes(),
        &config,
        spec.secrets.gateway_secret.expose_secret().as_bytes(),
        spec.secrets.admin_key.expose_secret().as_bytes(),
        spec.secrets.master_key.expose_secret().as_bytes(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

pub(super) fn write_config(path: &Path, spec: &InstanceSpec) -> anyhow::Result<()> {
    let config =
        serde_yaml::to_string(&spec.config).context("serialising the instance configuration")?;
    write_file(path, config.as_bytes())
}

/// Removes configuration files no process runs any more (and the single `config.yaml` of
/// control planes before blue/green deploys).
pub(super) async fn remove_stale_configs(layout: &Layout, serving: &Path) {
    let Ok(entries) = std::fs::read_dir(&layout.dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        let stale = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|name| {
                name == "config.yaml" || (name.starts_with("config-") && name.ends_with(".yaml"))
            })
            && path != serving;
        if stale {
            remove_file(&path).await;
        }
    }
}

/// Processes of this instance on ports other than the serving one: left by a control plane
/// that ended in the middle of a deploy. They are stopped.
pub(super) async fn stop_strays(layout: &Layout, serving_port: u16) {
    for pid_file in layout.pid_files() {
        if pid_file == layout.pid_for(serving_port) || pid_file == layout.legacy_pid {
            continue;
        }
        if let Some(pid) = read_pid(&pid_file).filter(|&pid| runs_instance(pid, &layout.data)) {
            tracing::info!(
                pid,
                "stopping an instance process left from an interrupted deploy"
            );
            Process::adopted(pid, layout).stop().await;
        }
        remove_file(&pid_file).await;
    }
    remove_file(&layout.next_port).await;
}

pub(super) fn read_port(path: &Path) -> Option<u16> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&port| port != 0)
}

pub(super) fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&pid| pid > 1)
}

/// The ports recorded by the instances under `instances_dir`.
pub(super) fn ports_in_use(instances_dir: &Path) -> HashSet<u16> {
    let Ok(entries) = std::fs::read_dir(instances_dir) else {
        return HashSet::new();
    };
    entries
        .filter_map(Result::ok)
        .flat_map(|entry| {
            let dir = entry.path();
            [
                read_port(&dir.join("port")),
                read_port(&dir.join("port.next")),
            ]
        })
        .flatten()
        .collect()
}

/// Writes `path` atomically (a temporary file renamed over it). Synchronous: the files are a
/// few bytes, and no cancellation can fall between starting a process and writing its pid.
pub(super) fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

pub(super) async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(path = %path.display(), error = %err, "removing a file failed"),
    }
}

/// Past [`MAX_LOG_BYTES`], copies the log to `instance.log.1` and empties it. Copy-and-truncate
/// rather than rename: the process keeps writing (in append mode) to the same file.
pub(super) async fn rotate_log(log: &Path) {
    let too_big = tokio::fs::metadata(log)
        .await
        .is_ok_and(|meta| meta.len() > MAX_LOG_BYTES);
    if !too_big {
        return;
    }
    let log = log.to_owned();
    let rotated = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut previous = log.as_os_str().to_owned();
        previous.push(".1");
        std::fs::copy(&log, PathBuf::from(previous))?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)?
            .set_len(0)
    })
    .await;
    if let Ok(Err(err)) = rotated {
        tracing::warn!(error = %err, "rotating an instance log failed");
    }
}

/// The last lines the process wrote since `from`.
pub(super) async fn log_tail(log: &Path, from: u64) -> String {
    let Ok(bytes) = tokio::fs::read(log).await else {
        return "(no log)".to_owned();
    };
    let from = usize::try_from(from)
        .ok()
        .filter(|&from| from <= bytes.len())
        .unwrap_or(0);
    let output = &bytes[from..];
    let output = &output[output.len().saturating_sub(LOG_TAIL_BYTES)..];
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    if tail.trim().is_empty() {
        "(the process wrote nothing)".to_owned()
    } else {
        tail
    }
}
