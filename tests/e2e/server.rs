//! The `wuye` binary as a person runs it: `wuye admin create` makes the
//! first administrator, `wuye` alone serves on the SQLite default after
//! migrating (keeping a generated signing secret in development, refusing a
//! weak one in production), prints where the docs are, never logs secrets,
//! and stops gracefully on SIGTERM; `wuye openapi` prints the committed
//! contract.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wuye");

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wuye-bin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One HTTP/1.1 request over a plain socket; returns the status line and body.
fn http(address: &str, method: &str, path: &str) -> (String, String) {
    request(address, method, path, &[], None)
}

/// One HTTP/1.1 request with headers and a JSON body.
fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    write!(stream, "{head}\r\n{}", body.unwrap_or_default()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

const ADMIN_PASSWORD: &str = "first admin pw 7";

/// `wuye admin create --username <name> --password-stdin` in `dir`.
fn admin_create(dir: &std::path::Path, username: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env_remove("WUYE_DATABASE_URL")
        .args([
            "admin",
            "create",
            "--username",
            username,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_create_makes_the_first_administrator_once() {
    let dir = scratch_dir("admin");
    let output = admin_create(&dir, "Admin", ADMIN_PASSWORD);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created administrator admin"));

    let again = admin_create(&dir, "admin", ADMIN_PASSWORD);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let weak = admin_create(&dir, "second", "short");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn production_refuses_a_missing_or_weak_signing_secret() {
    let dir = scratch_dir("production");
    for secret in [
        None,
        Some("changeme"),
        Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ] {
        let mut command = Command::new(BIN);
        command
            .current_dir(&dir)
            .env("WUYE_ENV", "production")
            .env("WUYE_BIND", "127.0.0.1:0")
            .env_remove("WUYE_DATABASE_URL")
            .env_remove("WUYE_JWT_SECRET");
        if let Some(secret) = secret {
            command.env("WUYE_JWT_SECRET", secret);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{secret:?} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("WUYE_JWT_SECRET"), "{stderr}");
        if let Some(secret) = secret {
            assert!(
                !stderr.contains(secret),
                "the secret itself is never printed"
            );
        }
    }
    assert!(
        !dir.join("data/jwt-secret").exists(),
        "production never generates a secret"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_is_the_default_and_stops_gracefully_on_sigterm() {
    let dir = scratch_dir("serve");
    let created = admin_create(&dir, "admin", ADMIN_PASSWORD);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let mut child = Command::new(BIN)
        .current_dir(&dir)
        .env("WUYE_BIND", "127.0.0.1:0")
        .env_remove("WUYE_DATABASE_URL")
        .env_remove("WUYE_JWT_SECRET")
        // Everything the server logs, at its most talkative.
        .env("WUYE_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    assert!(
        banner.contains("/docs/"),
        "the server says where the docs are: {banner:?}"
    );
    let address = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();

    assert!(
        dir.join("data/wuye.db").exists(),
        "default database ./data/wuye.db is created"
    );
    let (status, body) = http(&address, "GET", "/readyz");
    assert!(status.contains("200"), "{status} {body}");
    let secret_file = dir.join("data/jwt-secret");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&secret_file)
            .expect("development keeps a generated signing secret")
            .permissions(),
    );
    assert_eq!(mode & 0o077, 0, "only its owner may read the secret file");
    let (status, _) = http(&address, "GET", "/api/v1/company");
    assert!(status.contains("401"), "the API needs a token: {status}");
    let (status, body) = request(
        &address,
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(&format!(
            r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#
        )),
    );
    assert!(status.contains("200"), "{status} {body}");
    let tokens: serde_json::Value = serde_json::from_str(&body).unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let (status, body) = request(
        &address,
        "GET",
        "/api/v1/company",
        &[("Authorization", &bearer)],
        None,
    );
    assert!(
        status.contains("200") && body.contains("Asia/Shanghai"),
        "migrated: {status} {body}"
    );
    let (status, body) = request(
        &address,
        "GET",
        "/api/v1/audit-events?actor_kind=system",
        &[("Authorization", &bearer)],
        None,
    );
    assert!(
        status.contains("200")
            && body.contains(r#""action":"create""#)
            && body.contains("company_admin"),
        "`wuye admin create` is in the audit log: {status} {body}"
    );
    let (status, _) = request(
        &address,
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(r#"{"username":"admin","password":"a wrong password 1"}"#),
    );
    assert!(status.contains("401"), "{status}");
    let (status, _) = http(&address, "GET", "/docs/");
    assert!(status.contains("200"), "Swagger UI: {status}");
    let (status, _) = http(&address, "GET", "/docs");
    assert!(
        status.contains("308"),
        "/docs redirects to /docs/: {status}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let log = log.join().unwrap();
    assert!(log.contains("request"), "the log was captured: {log}");
    for secret in [ADMIN_PASSWORD, "a wrong password 1", &access, &refresh] {
        assert!(!log.contains(secret), "the log must not contain {secret:?}");
    }
    let kept = std::fs::read_to_string(&secret_file).unwrap();
    assert!(!log.contains(kept.trim()), "nor the signing secret");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn openapi_command_prints_the_committed_contract() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "run `make openapi`"
    );
}

#[test]
fn migrate_command_prepares_a_new_database_and_refuses_a_bad_url() {
    let dir = scratch_dir("migrate");
    let url = format!("sqlite://{}", dir.join("nested/w.db").display());
    let output = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.join("nested/w.db").exists());

    let output = Command::new(BIN)
        .args(["migrate", "--database-url", ":memory:"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database URL"));
    let _ = std::fs::remove_dir_all(dir);
}
