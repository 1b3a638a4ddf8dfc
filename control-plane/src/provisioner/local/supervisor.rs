//! The supervisor task of one instance process: restarts it when it exits or hangs, with
//! back-off, and reports what happened.

use super::*;

#[derive(Clone, Copy)]
pub(super) enum Directive {
    /// Stop the process gracefully, then end supervision.
    Stop,
    /// End supervision and leave the process running, for the next control plane to adopt.
    Detach,
}

/// The handle on one instance's supervisor task.
pub(super) struct Supervision {
    /// What the process runs ([`spec_digest`]).
    pub(super) digest: String,
    /// Its configuration file.
    pub(super) config: PathBuf,
    pub(super) endpoint: String,
    pub(super) directives: mpsc::UnboundedSender<Directive>,
    pub(super) task: JoinHandle<()>,
}

impl Supervision {
    pub(super) async fn end(self, directive: Directive) {
        let _ = self.directives.send(directive);
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "instance supervisor failed");
        }
    }
}

/// Watches one instance process: restarts it when it exits or hangs, reports what happened.
pub(super) struct Supervisor {
    pub(super) launch: Arc<Launch>,
    pub(super) endpoint: String,
    pub(super) http: reqwest::Client,
    pub(super) events: mpsc::UnboundedSender<Event>,
    pub(super) directives: mpsc::UnboundedReceiver<Directive>,
}

impl Supervisor {
    pub(super) async fn run(mut self, mut process: Process) {
        let instance_id = self.launch.instance_id.clone();
        let mut backoff = Backoff::default();
        let mut running_since = Instant::now();
        loop {
            let poll = match process {
                Process::Child(_) => STOP_POLL,
                Process::Adopted { .. } => ADOPTED_POLL,
            };
            let detail = tokio::select! {
                status = process.exited(poll) => format!("the process exited: {status}"),
                detail = unresponsive(&self.http, &self.endpoint, &self.launch.layout.log) => {
                    process.kill().await;
                    detail
                }
                directive = self.directives.recv() => {
                    self.conclude(directive, Some(process)).await;
                    return;
                }
            };
            tracing::warn!(%instance_id, %detail, "instance stopped unexpectedly; restarting it");
            self.report(Event::Crashed {
                instance_id: instance_id.clone(),
                detail,
            });
            remove_file(&self.launch.pid).await;
            if running_since.elapsed() >= HEALTHY_RESET {
                backoff = Backoff::default();
            }

            let mut failed_starts = 0;
            process = loop {
                tokio::select! {
                    () = sleep(backoff.next()) => {}
                    directive = self.directives.recv() => {
                        self.conclude(directive, None).await;
                        return;
                    }
                }
                let _starting = tokio::select! {
                    permit = self.launch.starts.acquire() => permit.ok(),
                    directive = self.directives.recv() => {
                        self.conclude(directive, None).await;
                        return;
                    }
                };
                let failure = match self.launch.spawn().await {
                    Ok((mut process, log_start)) => {
                        let started = tokio::select! {
                            started = wait_ready(&self.http, &self.endpoint, &mut process) => started,
                            directive = self.directives.recv() => {
                                self.conclude(directive, Some(process)).await;
                                return;
                            }
                        };
                        if matches!(started, Start::Ready) {
                            break process;
                        }
                        self.launch.failed_start(process, started, log_start).await
                    }
                    Err(err) => err,
                };
                failed_starts += 1;
                tracing::warn!(%instance_id, failed_starts, error = %format!("{failure:#}"), "restarting the instance failed");
                if failed_starts >= MAX_FAILED_STARTS {
                    tracing::error!(%instance_id, "giving up restarting the instance");
                    self.report(Event::Failed {
                        instance_id: instance_id.clone(),
                        detail: format!(
                            "{failed_starts} restarts in a row failed; the last: {failure:#}"
                        ),
                    });
                    return;
                }
            };
            tracing::info!(%instance_id, pid = ?process.pid(), "instance restarted and ready");
            self.report(Event::Ready {
                instance_id: instance_id.clone(),
            });
            running_since = Instant::now();
        }
    }

    /// Ends supervision as directed. A closed channel (the provisioner is gone) detaches.
    pub(super) async fn conclude(&self, directive: Option<Directive>, process: Option<Process>) {
        match (directive, process) {
            (Some(Directive::Stop), Some(mut process)) => {
                process.stop().await;
                remove_file(&self.launch.pid).await;
            }
            (Some(Directive::Stop), None) => remove_file(&self.launch.pid).await,
            (Some(Directive::Detach) | None, _) => {}
        }
    }

    pub(super) fn report(&self, event: Event) {
        // Nobody listening (the control plane is shutting down) is fine.
        let _ = self.events.send(event);
    }
}

/// Restart delays: 100 ms, 200 ms, 400 ms, ... up to 30 s.
pub(super) struct Backoff {
    pub(super) next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_FIRST,
        }
    }
}

impl Backoff {
    pub(super) fn next(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(BACKOFF_CAP);
        delay
    }
}
