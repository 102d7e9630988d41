//! Test harness: each test gets the real router over its own fresh database — a SQLite file
//! by default, or a new PostgreSQL database when `LIANXIN_TEST_DATABASE_URL` is set — and
//! sends requests in-process with `tower::ServiceExt::oneshot`.

use std::sync::atomic::{AtomicU64, Ordering};

use api::{
    Application, Config,
    config::{Environment, Secret},
    graphql::state::AppState,
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!!";
pub const DEMO_PASSWORD: &str = "lianxin-demo";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "lx_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Which database the suite runs on.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("LIANXIN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    cleanup: Option<Cleanup>,
}

/// Replaces the database name (the last path segment) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    format!("{prefix}/{name}{query}")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            api::core::telemetry::init("info,sqlx=warn");
        }
        let name = unique_name();
        let (url, cleanup) = match postgres_base_url() {
            Some(admin_url) => {
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("LIANXIN_TEST_DATABASE_URL must reach PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                (
                    with_database(&admin_url, &name),
                    Cleanup::Postgres { admin_url, name },
                )
            }
            None => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Cleanup::Sqlite(path),
                )
            }
        };
        let mut config = Config::new(url, Secret::new(SECRET)).expect("config");
        config.environment = Environment::Development;
        adjust(&mut config);
        let app = Application::build(config).await.expect("build app");
        // On PostgreSQL the server serves known viewers without reading their row once it
        // listens for changed users: tests start from that steady state.
        if app.state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            let mut waited = 0;
            while !app.state.viewers.listening() {
                assert!(
                    waited < 1000,
                    "the listener of changed users did not connect"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                waited += 1;
            }
        }
        TestApp {
            router: app.router,
            state: app.state,
            cleanup: Some(cleanup),
        }
    }

    /// The same server and database, to move into a task (the database stays this app's).
    pub fn sharing(&self) -> TestApp {
        TestApp {
            router: self.router.clone(),
            state: self.state.clone(),
            cleanup: None,
        }
    }

    /// An app filled with the demo data of `serve --demo`.
    pub async fn with_demo() -> Self {
        let app = Self::spawn().await;
        api::demo::seed(&app.state.db, &app.state.config)
            .await
            .expect("demo data");
        app
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.state.db
    }

    /// SQL statements executed so far.
    pub fn statements(&self) -> u64 {
        self.state.statements.get()
    }

    /// Sends a raw HTTP request to the router.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, body)
    }

    /// POSTs a GraphQL request with an optional bearer token; returns the JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.post_raw(token, body.into_bytes()).await.1
    }

    /// POSTs a GraphQL multipart request: `variables` with one file at `file_path` (e.g.
    /// `variables.in.file`), as the GraphQL multipart request spec describes.
    pub async fn gql_upload(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file_path: &str,
        file_name: &str,
        file: &[u8],
    ) -> Value {
        self.gql_files(token, query, variables, &[(file_path, file_name, file)])
            .await
    }

    /// A GraphQL multipart request with several files: `(variable path, file name, bytes)`.
    pub async fn gql_files(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        files: &[(&str, &str, &[u8])],
    ) -> Value {
        let boundary = "lianxin-test-boundary";
        let operations = json!({ "query": query, "variables": variables });
        let map: serde_json::Map<String, Value> = files
            .iter()
            .enumerate()
            .map(|(i, (path, _, _))| (i.to_string(), json!([path])))
            .collect();
        let mut body = Vec::new();
        let mut part = |head: String, content: &[u8]| {
            body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        };
        part(
            "Content-Disposition: form-data; name=\"operations\"".into(),
            operations.to_string().as_bytes(),
        );
        part(
            "Content-Disposition: form-data; name=\"map\"".into(),
            Value::Object(map).to_string().as_bytes(),
        );
        for (i, (_, name, content)) in files.iter().enumerate() {
            part(
                format!(
                    "Content-Disposition: form-data; name=\"{i}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream"
                ),
                content,
            );
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = Request::post("/graphql").header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        );
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let (_, bytes) = self
            .send(req.body(Body::from(body)).expect("request"))
            .await;
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes).to_string() }))
    }

    /// A GET of a path, with or without a token: the status, content type and body.
    pub async fn get_bytes(
        &self,
        token: Option<&str>,
        path: &str,
    ) -> (StatusCode, String, Vec<u8>) {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let media = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, media, bytes)
    }

    pub async fn post_raw(&self, token: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
        let mut req = Request::post("/graphql").header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let (status, bytes) = self
            .send(req.body(Body::from(body)).expect("request"))
            .await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes).to_string() }));
        (status, value)
    }

    /// Logs in and returns the token.
    pub async fn login_as(&self, username: &str, password: &str) -> String {
        let v = self
            .gql(
                None,
                "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
                json!({ "u": username, "p": password }),
            )
            .await;
        v["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login {username} failed: {v}"))
            .to_owned()
    }

    /// Logs in a demo account.
    pub async fn login(&self, username: &str) -> String {
        self.login_as(username, DEMO_PASSWORD).await
    }

    /// Id of a row found by a GraphQL query path, e.g. a demo grid by name.
    pub async fn grid_id(&self, name: &str) -> String {
        let v = self
            .gql(
                None,
                "{ grids(first: 100) { nodes { id name } } }",
                json!({}),
            )
            .await;
        find_id(&v["data"]["grids"]["nodes"], name)
    }

    pub async fn community_id(&self, name: &str) -> String {
        let v = self
            .gql(
                None,
                "{ communities(first: 100) { nodes { id name } } }",
                json!({}),
            )
            .await;
        find_id(&v["data"]["communities"]["nodes"], name)
    }

    pub async fn user_id(&self, token: &str) -> String {
        let v = self.gql(Some(token), "{ me { id } }", json!({})).await;
        v["data"]["me"]["id"].as_str().expect("me.id").to_owned()
    }

    /// Creates a user directly (fast: reuses a precomputed password hash), returns its token.
    pub async fn create_user_with(
        &self,
        username: &str,
        grants: &[api::account::rules::RoleGrant],
    ) -> String {
        let hash = demo_hash().await;
        api::account::rules::insert_user(
            self.db(),
            username,
            username,
            Some("13900001111".into()),
            None,
            hash,
            grants,
            None,
        )
        .await
        .expect("insert user");
        self.login(username).await
    }

    /// Creates a user directly and returns a token issued without a login round trip
    /// (for tests that need many users).
    pub async fn quick_user(
        &self,
        username: &str,
        grants: &[api::account::rules::RoleGrant],
    ) -> (i64, String) {
        let user = api::account::rules::insert_user(
            self.db(),
            username,
            username,
            Some("13900001111".into()),
            None,
            "not-a-hash".into(),
            grants,
            None,
        )
        .await
        .expect("insert user");
        let (token, _) =
            api::auth::issue_token(&self.state.config, user.id, user.token_version).expect("token");
        self.settle().await;
        (user.id, token)
    }

    /// Waits until the server has heard of every change of users made so far behind its back
    /// (direct inserts and updates; PostgreSQL announces them at commit).
    pub async fn settle(&self) {
        self.state
            .viewers
            .settle(self.db())
            .await
            .expect("settle the viewers");
    }

    /// Grants `role` (on `grid`, for a grid worker) straight in the database, behind the
    /// server's back as another instance or the CLI would, and waits until it has heard.
    pub async fn grant_directly(
        &self,
        user_id: i64,
        role: entity::role_assignment::Role,
        grid: Option<i64>,
    ) {
        use sea_orm::{ActiveModelTrait, Set};
        entity::role_assignment::ActiveModel {
            user_id: Set(user_id),
            role: Set(role),
            grid_id: Set(grid),
            created_at: Set(api::core::clock::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await
        .expect("grant");
        self.settle().await;
    }
}

/// A hash of the demo password, computed once.
pub async fn demo_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        api::auth::hash_password(DEMO_PASSWORD.to_owned())
            .await
            .expect("hash")
    })
    .await
    .clone()
}

pub fn find_id(nodes: &Value, name: &str) -> String {
    nodes
        .as_array()
        .and_then(|a| a.iter().find(|n| n["name"] == name))
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("no node named {name} in {nodes}"))
        .to_owned()
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(v: &Value) -> Option<&str> {
    v["errors"][0]["extensions"]["code"].as_str()
}

/// Asserts that the response failed with `code`.
#[track_caller]
pub fn assert_code(v: &Value, code: &str) {
    assert_eq!(error_code(v), Some(code), "expected {code}, got {v}");
}

/// Asserts that the response has no errors and returns its data.
#[track_caller]
pub fn ok(v: &Value) -> &Value {
    assert!(v.get("errors").is_none(), "unexpected errors: {v}");
    &v["data"]
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::Sqlite(path)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Some(Cleanup::Postgres { admin_url, name }) => {
                // Drop the test database from a thread with its own runtime.
                let handle = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                });
                let _ = handle.join();
            }
            None => {}
        }
    }
}

/// base64url without padding, for hand-made tokens.
pub fn b64url(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl TestApp {
    /// SQL statements of a query, the least of three runs: the count follows the query's
    /// shape; a machine under heavy load can occasionally split a batch, which a repeat shows.
    pub async fn statements_of(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u64, Value) {
        let mut best: Option<(u64, Value)> = None;
        for _ in 0..3 {
            let before = self.statements();
            let v = self.gql(token, query, variables.clone()).await;
            let n = self.statements() - before;
            if best.as_ref().is_none_or(|b| n < b.0) {
                best = Some((n, v));
            }
        }
        best.unwrap_or((0, Value::Null))
    }
}

/// Serves `router` on a free local port (for clients that need a real socket: WebSockets,
/// the browser) and returns its address.
pub async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}
