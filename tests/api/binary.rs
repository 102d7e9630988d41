//! The `lianxin` binary itself: `serve --demo` in an empty directory starts, answers `me`
//! for `admin` after login, and leaves an existing database alone.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn lianxin(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lianxin"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("LIANXIN_JWT_SECRET")
        .env_remove("LIANXIN_BIND")
        .env("RUST_LOG", "warn");
    cmd
}

async fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

async fn gql(port: u16, token: Option<&str>, query: &str) -> Value {
    let body = json!({ "query": query }).to_string();
    let (_, text) = http(port, "POST", "/graphql", token, &body)
        .await
        .expect("response");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn start(dir: &std::path::Path, port: u16) -> Server {
    start_logging(dir, port, None).await
}

/// Starts `serve --demo`; with `log`, its info-level log goes to that file.
async fn start_logging(dir: &std::path::Path, port: u16, log: Option<&std::path::Path>) -> Server {
    let mut cmd = lianxin(dir);
    cmd.args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null());
    match log {
        Some(path) => {
            let file = std::fs::File::create(path).expect("log file");
            cmd.env("RUST_LOG", "info").stdout(file);
        }
        None => {
            cmd.stdout(Stdio::null());
        }
    }
    let child = cmd.spawn().expect("spawn lianxin");
    let server = Server(child);
    for _ in 0..300 {
        if let Some((200, _)) = http(port, "GET", "/healthz", None, "").await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not start on port {port}");
}

#[tokio::test]
async fn serve_demo_starts_in_an_empty_directory_and_answers_me_for_admin() {
    let dir = std::env::temp_dir().join(format!(
        "lianxin-bin-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = free_port();
    let server = start(&dir, port).await;
    assert!(
        dir.join("lianxin.db").exists(),
        "SQLite file created in the working directory"
    );
    let login = gql(
        port,
        None,
        "mutation { login(input: {username: \"admin\", password: \"lianxin-demo\"}) { token } }",
    )
    .await;
    let token = login["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = gql(port, Some(&token), "{ me { username roles { role } } }").await;
    assert_eq!(me["data"]["me"]["username"], "admin");
    assert_eq!(me["data"]["me"]["roles"][0]["role"], "ADMIN");
    // Leave a trace, restart with --demo: the existing data is kept, not re-seeded.
    let staff_token = gql(
        port,
        None,
        "mutation { login(input: {username: \"staff\", password: \"lianxin-demo\"}) { token } }",
    )
    .await["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = gql(
        port,
        Some(&staff_token),
        "mutation { createGrid(input: {communityId: \"1\", name: \"重启后仍在\", kind: DEDICATED}) { grid { id } } }",
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    drop(server);
    let port = free_port();
    let _server = start(&dir, port).await;
    let grids = gql(
        port,
        None,
        "{ grids(first: 100) { totalCount } users: communities { totalCount } }",
    )
    .await;
    assert_eq!(grids["data"]["grids"]["totalCount"], 10);
    assert_eq!(grids["data"]["users"]["totalCount"], 3);
    // The demo secret was generated on the first start and kept with the database: a token
    // of the first run still works; one signed with the old source constant does not.
    let me = gql(port, Some(&token), "{ me { username } }").await;
    assert_eq!(me["data"]["me"]["username"], "admin", "{me}");
    let now = chrono::Utc::now().timestamp();
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "1", "iat": now, "exp": now + 3600, "iss": "lianxin", "aud": "lianxin-api"}),
        &jsonwebtoken::EncodingKey::from_secret(b"lianxin-demo-secret-do-not-use-in-production!"),
    )
    .expect("token");
    let me = gql(port, Some(&forged), "{ me { username } }").await;
    assert_eq!(
        me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{me}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_without_a_secret_or_with_a_short_one_is_refused() {
    let dir = std::env::temp_dir();
    let out = lianxin(&dir)
        .args(["serve", "--database-url", "sqlite::memory:"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LIANXIN_JWT_SECRET"));
    let out = lianxin(&dir)
        .args(["serve", "--database-url", "sqlite::memory:"])
        .env("LIANXIN_JWT_SECRET", "short")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32"));
}

#[test]
fn export_schema_check_passes_on_the_committed_schema() {
    let out = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["export-schema", "--check"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn each_graphql_request_logs_one_line_without_tokens_or_passwords() {
    let dir = std::env::temp_dir().join(format!(
        "lianxin-log-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("server.log");
    let port = free_port();
    let server = start_logging(&dir, port, Some(&log)).await;
    let bad = gql(
        port,
        None,
        "mutation WrongLogin { login(input: {username: \"admin\", password: \"not-the-password\"}) { token } }",
    )
    .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let token = gql(
        port,
        None,
        "mutation Login { login(input: {username: \"admin\", password: \"lianxin-demo\"}) { token } }",
    )
    .await["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = gql(port, Some(&token), "query WhoAmI { me { id } }").await;
    let admin_id = me["data"]["me"]["id"].as_str().expect("id").to_owned();
    drop(server);
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(" graphql ")).collect();
    let line = |op: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|l| l.contains(&format!("operation={op} ")))
            .collect()
    };
    for op in ["WrongLogin", "Login", "WhoAmI"] {
        let found = line(op);
        assert_eq!(found.len(), 1, "one line for {op}: {text}");
        for key in ["request_id=", "user_id=", "duration_ms=", "errors="] {
            assert!(found[0].contains(key), "{key} in {}", found[0]);
        }
    }
    assert!(line("WrongLogin")[0].contains("UNAUTHENTICATED"), "{text}");
    assert!(
        line("WhoAmI")[0].contains(&format!("user_id=Some({admin_id})")),
        "{text}"
    );
    assert!(line("WhoAmI")[0].contains("errors=[]"), "{text}");
    for secret in [token.as_str(), "not-the-password"] {
        assert!(!text.contains(secret), "the log holds a secret: {text}");
    }
    // `--demo` prints the demo password at start on purpose; no request line holds it.
    let requests: Vec<&str> = text.lines().filter(|l| l.contains("request{")).collect();
    assert!(requests.len() >= 4, "{text}");
    assert!(
        !requests.iter().any(|l| l.contains("lianxin-demo")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_help_shows_the_defaults_the_server_uses() {
    let out = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    assert!(out.status.success());
    assert!(!help.contains("[default: ]"), "an empty default: {help}");
    let c = api::config::Config::new("sqlite::memory:", api::config::Secret::new("x".repeat(32)))
        .expect("config");
    let p = &c.wish_points;
    for (flag, default) in [
        (
            "--token-ttl-minutes",
            (c.token_ttl.as_secs() / 60).to_string(),
        ),
        (
            "--refresh-ttl-days",
            (c.refresh_ttl.as_secs() / 86_400).to_string(),
        ),
        (
            "--request-timeout-secs",
            c.request_timeout.as_secs().to_string(),
        ),
        (
            "--login-attempts-per-user",
            c.login_attempts_per_user.to_string(),
        ),
        (
            "--login-attempts-per-address",
            c.login_attempts_per_address.to_string(),
        ),
        ("--max-active-claims", c.max_active_claims.to_string()),
        ("--max-wish-value", c.max_wish_value.to_string()),
        ("--cancel-hours", c.cancel_hours.to_string()),
        ("--max-no-shows", c.max_no_shows.to_string()),
        ("--points-per-hour", c.points_per_hour.to_string()),
        (
            "--wish-points",
            format!(
                "GOODS={},SERVICE={},COMPANIONSHIP={},OTHER={}",
                p.goods, p.service, p.companionship, p.other
            ),
        ),
    ] {
        let at = help
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag} missing: {help}"));
        let rest = &help[at..];
        let next = rest[2..].find("  --").map_or(rest.len(), |i| i + 2);
        assert!(
            rest[..next].contains(&format!("[default: {default}]")),
            "{flag} should show [default: {default}]: {}",
            &rest[..next]
        );
    }
}
