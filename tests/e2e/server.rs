//! The `wuye` binary as a person runs it: `wuye` alone serves on the SQLite
//! default after migrating, prints where the docs are, and stops gracefully
//! on SIGTERM; `wuye openapi` prints the committed contract.

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
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_is_the_default_and_stops_gracefully_on_sigterm() {
    let dir = scratch_dir("serve");
    let mut child = Command::new(BIN)
        .current_dir(&dir)
        .env("WUYE_BIND", "127.0.0.1:0")
        .env_remove("WUYE_DATABASE_URL")
        .env("WUYE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
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
    let (status, body) = http(&address, "GET", "/api/v1/company");
    assert!(
        status.contains("200") && body.contains("Asia/Shanghai"),
        "migrated: {status} {body}"
    );
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
