//! The raw rates the instance's hot paths are bounded by, on all cores: Argon2id verifications
//! per second (with the production parameters) and RS256 (RSA-2048, PKCS#1 v1.5 SHA-256)
//! signatures per second. `scripts/bench-instance` compares the HTTP rates against these.
//! With `imported`, the verification rates of the imported hash forms instead (each verified
//! once, at the user's first sign-in, then replaced by Argon2id): Firebase scrypt with
//! Firebase's default parameters (rounds 8, mem_cost 14), PBKDF2-SHA256 at Keycloak's 27,500
//! and 210,000 iterations, bcrypt at cost 10 (Auth0's).
//!
//! Usage: cargo run --release --example crypto_rates -- [seconds] [imported]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authstack_instance::passwords::{hash_blocking, verify_blocking};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;

fn rate(seconds: f64, threads: usize, work: impl Fn() + Send + Sync + 'static) -> f64 {
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (work, stop, done) = (work.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    work();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.join().expect("worker");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5.0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    if std::env::args().nth(2).as_deref() == Some("imported") {
        return imported(seconds, threads);
    }

    let hash = hash_blocking("benchmark passphrase")?;
    let argon2 = rate(seconds, threads, move || {
        verify_blocking("benchmark passphrase", &hash);
    });

    let pair =
        Arc::new(KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("keygen"))?);
    let message = vec![b'x'; 400]; // about the size of an encoded header and claims
    let rsa = rate(seconds, threads, move || {
        let mut signature = vec![0u8; pair.public_modulus_len()];
        let _ = pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &message,
            &mut signature,
        );
    });

    println!(
        "{}",
        serde_json::json!({ "threads": threads, "argon2id_verify_per_sec": argon2, "rs256_sign_per_sec": rsa })
    );
    Ok(())
}

fn imported(seconds: f64, threads: usize) -> anyhow::Result<()> {
    use authstack_instance::passwords::firebase;
    use authstack_instance::passwords::pbkdf2::{Prf, phc};

    let parameters = firebase::Parameters {
        rounds: 8,
        mem_cost: 14,
        salt_separator: vec![7],
    };
    let key = vec![0x5au8; 64];
    let salt = b"0123456789";
    let stored = firebase::Stored {
        key_id: "bench".into(),
        hash: firebase::hash(b"benchmark passphrase", salt, &parameters, &key)
            .ok_or_else(|| anyhow::anyhow!("firebase hash"))?,
        parameters,
        salt: salt.to_vec(),
    };
    let firebase_rate = rate(seconds, threads, move || {
        assert!(firebase::verify("benchmark passphrase", &stored, &key));
    });
    let mut rates = serde_json::Map::new();
    rates.insert("threads".into(), threads.into());
    rates.insert(
        "firebase_scrypt_verify_per_sec".into(),
        firebase_rate.into(),
    );
    for rounds in [27_500u32, 210_000] {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"benchmark passphrase", salt, rounds, &mut out);
        let hash = phc(Prf::Sha256, rounds, salt, &out).ok_or_else(|| anyhow::anyhow!("phc"))?;
        let per_sec = rate(seconds, threads, move || {
            verify_blocking("benchmark passphrase", &hash);
        });
        rates.insert(
            format!("pbkdf2_sha256_{rounds}_verify_per_sec"),
            per_sec.into(),
        );
    }
    let bcrypt_hash = bcrypt::hash("benchmark passphrase", 10)?;
    let bcrypt_rate = rate(seconds, threads, move || {
        verify_blocking("benchmark passphrase", &bcrypt_hash);
    });
    rates.insert("bcrypt_10_verify_per_sec".into(), bcrypt_rate.into());
    println!("{}", serde_json::Value::Object(rates));
    Ok(())
}
