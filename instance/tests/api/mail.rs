//! Mail over SMTP to a real SMTP server (aiosmtpd, storing a Maildir).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use authstack_instance::mail::{Mailer, verify_email};
use secrecy::SecretString;

/// The Python that has aiosmtpd (Debian's `python3-aiosmtpd`, installed by `scripts/test`).
const PYTHON: &str = "/usr/bin/python3";

struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but aiosmtpd is missing"
        );
        eprintln!("skipped: install python3-aiosmtpd to run the SMTP test");
    }
    ok
}

async fn start_smtp() -> SmtpServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let maildir = tempfile::tempdir().expect("maildir");
    let child = Command::new(PYTHON)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    // Owned by the guard at once, so that every path kills and reaps the process.
    let server = SmtpServer {
        child,
        port,
        maildir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not start");
}

#[tokio::test]
async fn mail_is_delivered_over_smtp_with_text_html_and_link() {
    if !aiosmtpd_available() {
        return;
    }
    let server = start_smtp().await;
    let url = SecretString::from(format!("smtp://127.0.0.1:{}", server.port));
    let mailer = Mailer::new(
        Some(&url),
        "Acme <no-reply@acme.test>",
        server.maildir.path(),
    )
    .expect("mailer");
    let link = "https://app.acme.test/verify-email?token=abc123";
    mailer
        .send(&verify_email("Acme", "ada@example.com", link))
        .await
        .expect("delivered");

    let new = server.maildir.path().join("mail").join("new");
    let messages: Vec<_> = std::fs::read_dir(&new)
        .expect("maildir/new")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(messages.len(), 1);
    let raw = std::fs::read_to_string(messages[0].path()).expect("message");
    assert!(raw.contains("To: ada@example.com"), "{raw}");
    assert!(raw.contains("From: Acme <no-reply@acme.test>"), "{raw}");
    assert!(raw.contains("Subject: Verify your email for Acme"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/html"), "{raw}");
    assert!(
        raw.contains("token=3Dabc123") || raw.contains("token=abc123"),
        "{raw}"
    );

    // A server that refuses connections is an error, not a silent success.
    drop(server);
    let dead = SecretString::from("smtp://127.0.0.1:9".to_owned());
    let mailer = Mailer::new(
        Some(&dead),
        "Acme <no-reply@acme.test>",
        std::path::Path::new("/tmp"),
    )
    .expect("mailer");
    assert!(
        mailer
            .send(&verify_email("Acme", "ada@example.com", link))
            .await
            .is_err()
    );
}
