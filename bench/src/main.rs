//! The lianxin benchmark: starts the real server (release build) on a fresh database filled
//! with a realistic volume, drives it over HTTP at several concurrencies, serves the same
//! wishes page from a plain axum JSON route (the baseline), and writes
//! `target/bench/report.md` and `report.json`.
//!
//! `cargo run --release -p lianxin-bench -- --database sqlite`
//! `cargo run --release -p lianxin-bench -- --database postgres://postgres@127.0.0.1:5432/test`

mod baseline;
mod client;
mod seed;

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use serde::Serialize;
use serde_json::{Value, json};

use crate::client::Conn;

/// The same allocator as the server (src/main.rs), so that the baseline compares like with
/// like. mimalloc instead of glibc's malloc: with many short-lived allocations on several threads
/// (tokio workers and SQLite's connection threads), glibc spent a quarter of the server's CPU
/// in malloc/free and arena consolidation under load (benchmark profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Benchmark of the lianxin server against a plain axum baseline")]
struct Args {
    /// `sqlite`, or a PostgreSQL URL whose server gets a fresh benchmark database.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Seconds per operation and concurrency.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrencies to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Interleaved slices in which the GraphQL wishes page and its baseline share `--seconds`.
    #[arg(long, default_value_t = 4)]
    slices: u32,
    /// Operations to measure: wishes, baseline, contact, passbook, claim, redeem, signup.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    operations: Vec<String>,
    /// Internal: serve the baseline route at this address against `--database` (a URL).
    #[arg(long, hide = true)]
    serve_baseline: Option<String>,
}

const SECRET: &str = "lianxin-benchmark-secret-0123456789abcdef";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Peak resident memory of a process, in MB (VmHWM).
fn peak_memory_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    WishesPage,
    ContactCard,
    MyPassbook,
    ClaimRelease,
    Redeem,
    SignupCancel,
    BaselineWishes,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::WishesPage => "wishes page (GraphQL)",
            Op::ContactCard => "contactCard",
            Op::MyPassbook => "myPassbook + 20 entries",
            Op::ClaimRelease => "claimWish + releaseWishClaim",
            Op::Redeem => "redeemReward",
            Op::SignupCancel => "signUpForShift + cancelShiftSignup",
            Op::BaselineWishes => "wishes page (plain axum baseline)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Op::WishesPage => "wishes",
            Op::ContactCard => "contact",
            Op::MyPassbook => "passbook",
            Op::ClaimRelease => "claim",
            Op::Redeem => "redeem",
            Op::SignupCancel => "signup",
            Op::BaselineWishes => "baseline",
        }
    }
}

const WISHES_PAGE: &str = "query WishesPage { wishes(first: 20) { nodes { id title status beneficiaryName grid { name } community { name } beneficiary { displayName } claimant { displayName } } } }";

#[derive(Serialize)]
struct Row {
    operation: String,
    concurrency: usize,
    requests: u64,
    rps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    errors: u64,
    expected_conflicts: u64,
    statements_per_request: f64,
    /// Up to three error messages seen (code and message), to make failures visible.
    error_samples: Vec<String>,
}

/// Outcome of one GraphQL response: ok, an expected CONFLICT, or an error.
enum Outcome {
    Ok,
    Conflict,
    Error(String),
}

fn judge(status: u16, body: &[u8]) -> (Outcome, Value) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if status != 200 || v.is_null() {
        return (Outcome::Error(format!("HTTP {status}")), v);
    }
    match v.get("errors") {
        None => (Outcome::Ok, v),
        Some(e) if e[0]["extensions"]["code"] == "CONFLICT" => (Outcome::Conflict, v),
        Some(e) => {
            let sample = format!("{} {}", e[0]["extensions"]["code"], e[0]["message"]);
            (Outcome::Error(sample), v)
        }
    }
}

struct Ctx {
    server: String,
    baseline: String,
    tokens: Tokens,
    published: Vec<i64>,
    shifts: Vec<i64>,
}

struct Tokens {
    members: Vec<String>,
    holders: Vec<(String, i64)>,
    students: Vec<String>,
    residents: Vec<String>,
}

async fn gql(
    conn: &mut Conn,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<(u16, Vec<u8>)> {
    let body = json!({"query": query, "variables": variables}).to_string();
    conn.send("POST", "/graphql", Some(token), body.as_bytes())
        .await
}

/// One iteration of `op` by worker `w`; returns (outcome, latency of each request).
async fn iterate(
    ctx: &Ctx,
    op: Op,
    w: usize,
    i: u64,
    conn: &mut Conn,
    base: &mut Conn,
) -> Result<(Outcome, Vec<Duration>)> {
    let pick = |n: usize| ((w as u64 * 7_919 + i * 104_729) % n as u64) as usize;
    let mut lat = Vec::with_capacity(2);
    let t = Instant::now();
    let outcome = match op {
        Op::WishesPage => {
            let (s, b) = gql(conn, &ctx.tokens.members[w], WISHES_PAGE, json!({})).await?;
            judge(s, &b).0
        }
        Op::BaselineWishes => {
            let (s, _) = base
                .send(
                    "GET",
                    "/baseline/wishes?first=20",
                    Some(&ctx.tokens.members[w]),
                    b"",
                )
                .await?;
            if s == 200 {
                Outcome::Ok
            } else {
                Outcome::Error(format!("HTTP {s}"))
            }
        }
        Op::ContactCard => {
            let grid = pick(seed::TOP_GRIDS as usize) + 1;
            let q = "query Card($g: ID!) { contactCard(gridId: $g) { communityPhone leader { name phone } workers { name phone } } }";
            let (s, b) = gql(
                conn,
                &ctx.tokens.residents[w],
                q,
                json!({"g": grid.to_string()}),
            )
            .await?;
            judge(s, &b).0
        }
        Op::MyPassbook => {
            let q = "query Passbook { myPassbook { number balance entries(first: 20) { nodes { amount kind memo balanceAfter createdAt } } } }";
            let (s, b) = gql(conn, &ctx.tokens.holders[w].0, q, json!({})).await?;
            judge(s, &b).0
        }
        Op::Redeem => {
            let (token, community) = &ctx.tokens.holders[w];
            let reward = (community - 1) * 2 + 1;
            let q = "mutation Redeem($r: ID!) { redeemReward(input: {rewardId: $r, quantity: 1}) { redemption { id entry { balanceAfter } } } }";
            let (s, b) = gql(conn, token, q, json!({"r": reward.to_string()})).await?;
            judge(s, &b).0
        }
        Op::ClaimRelease => {
            let wish = ctx.published[pick(ctx.published.len())];
            let token = &ctx.tokens.members[w];
            let q =
                "mutation Claim($w: ID!) { claimWish(input: {wishId: $w}) { wish { id status } } }";
            let (s, b) = gql(conn, token, q, json!({"w": wish.to_string()})).await?;
            lat.push(t.elapsed());
            let (o, _) = judge(s, &b);
            if let Outcome::Ok = o {
                let t2 = Instant::now();
                let q = "mutation Release($w: ID!) { releaseWishClaim(input: {wishId: $w, reason: \"基准测试\"}) { wish { id } } }";
                let (s, b) = gql(conn, token, q, json!({"w": wish.to_string()})).await?;
                lat.push(t2.elapsed());
                return Ok((judge(s, &b).0, lat));
            }
            return Ok((o, lat));
        }
        Op::SignupCancel => {
            let shift = ctx.shifts[pick(ctx.shifts.len())];
            let token = &ctx.tokens.students[w];
            let q = "mutation SignUp($s: ID!) { signUpForShift(input: {shiftId: $s}) { signup { id } } }";
            let (s, b) = gql(conn, token, q, json!({"s": shift.to_string()})).await?;
            lat.push(t.elapsed());
            let (o, v) = judge(s, &b);
            if let Outcome::Ok = o {
                let id = v["data"]["signUpForShift"]["signup"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let t2 = Instant::now();
                let q = "mutation Cancel($s: ID!) { cancelShiftSignup(input: {signupId: $s}) { signup { status } } }";
                let (s, b) = gql(conn, token, q, json!({"s": id})).await?;
                lat.push(t2.elapsed());
                return Ok((judge(s, &b).0, lat));
            }
            return Ok((o, lat));
        }
    };
    lat.push(t.elapsed());
    Ok((outcome, lat))
}

async fn scrape_statements(server: &str) -> Result<u64> {
    let mut c = Conn::new(server);
    let (_, body) = c.send("GET", "/metrics", None, b"").await?;
    let text = String::from_utf8_lossy(&body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("lianxin_sql_statements_total "))
        .and_then(|n| n.trim().parse().ok())
        .context("statements metric")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

/// What one measurement window saw.
#[derive(Default)]
struct Sample {
    lat: Vec<Duration>,
    errors: u64,
    conflicts: u64,
    requests: u64,
    elapsed: f64,
    statements: u64,
    error_samples: Vec<String>,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.lat.extend(other.lat);
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        self.requests += other.requests;
        self.elapsed += other.elapsed;
        self.statements += other.statements;
        for x in other.error_samples {
            if self.error_samples.len() < 3 && !self.error_samples.contains(&x) {
                self.error_samples.push(x);
            }
        }
    }

    fn row(mut self, op: Op, concurrency: usize) -> Row {
        self.lat.sort_unstable();
        Row {
            operation: op.name().to_owned(),
            concurrency,
            requests: self.requests,
            rps: self.requests as f64 / self.elapsed.max(1e-9),
            p50_ms: percentile(&self.lat, 0.50),
            p95_ms: percentile(&self.lat, 0.95),
            p99_ms: percentile(&self.lat, 0.99),
            errors: self.errors,
            expected_conflicts: self.conflicts,
            statements_per_request: if self.requests > 0 {
                self.statements as f64 / self.requests as f64
            } else {
                0.0
            },
            error_samples: self.error_samples,
        }
    }
}

async fn measure(ctx: Arc<Ctx>, op: Op, concurrency: usize, window: Duration) -> Result<Sample> {
    let target = if op == Op::BaselineWishes {
        &ctx.baseline
    } else {
        &ctx.server
    };
    let before = scrape_statements(target).await?;
    let deadline = Instant::now() + window;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(&ctx.server);
            let mut base = Conn::new(&ctx.baseline);
            let mut lat = Vec::new();
            let (mut errors, mut conflicts, mut requests) = (0u64, 0u64, 0u64);
            let mut samples: Vec<String> = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                match iterate(&ctx, op, w, i, &mut conn, &mut base).await {
                    Ok((o, l)) => {
                        requests += l.len() as u64;
                        lat.extend(l);
                        match o {
                            Outcome::Ok => {}
                            Outcome::Conflict => conflicts += 1,
                            Outcome::Error(m) => {
                                errors += 1;
                                if samples.len() < 3 && !samples.contains(&m) {
                                    samples.push(m);
                                }
                            }
                        }
                    }
                    Err(_) => errors += 1,
                }
                i += 1;
            }
            (lat, errors, conflicts, requests, samples)
        }));
    }
    let mut lat = Vec::new();
    let (mut errors, mut conflicts, mut requests) = (0, 0, 0);
    let mut error_samples: Vec<String> = Vec::new();
    for t in tasks {
        let (l, e, c, r, samples) = t.await?;
        for x in samples {
            if error_samples.len() < 3 && !error_samples.contains(&x) {
                error_samples.push(x);
            }
        }
        lat.extend(l);
        errors += e;
        conflicts += c;
        requests += r;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = scrape_statements(target).await?;
    Ok(Sample {
        lat,
        errors,
        conflicts,
        requests,
        elapsed,
        statements: after - before,
        error_samples,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(bind) = &args.serve_baseline {
        return baseline::serve(&args.database, bind, SECRET).await;
    }
    let root = workspace();
    println!("building the server (release)…");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "lianxin", "--bin", "lianxin"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("cargo build failed");
    }
    let bin = root.join("target/release/lianxin");
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;

    // A fresh database.
    let (url, cleanup): (String, Option<(String, String)>) = if args.database == "sqlite" {
        let path = out_dir.join("bench.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        (format!("sqlite://{}?mode=rwc", path.display()), None)
    } else if args.database.starts_with("postgres") {
        let name = format!("lianxin_bench_{}", std::process::id());
        let admin = Database::connect(&args.database).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await?;
        let (base, _) = args.database.rsplit_once('/').context("database URL")?;
        (
            format!("{base}/{name}"),
            Some((args.database.clone(), name)),
        )
    } else {
        bail!("--database is `sqlite` or a postgres:// URL");
    };
    let result = run(&args, &bin, &url, &out_dir).await;
    if let Some((admin_url, name)) = cleanup {
        let admin = Database::connect(&admin_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    result
}

async fn run(
    args: &Args,
    bin: &std::path::Path,
    url: &str,
    out_dir: &std::path::Path,
) -> Result<()> {
    let status = Command::new(bin)
        .args(["migrate", "--database-url", url])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("migrate failed");
    }
    let (db, _) = api::core::db::connect(url).await?;
    println!("seeding…");
    let t = Instant::now();
    let hash = api::auth::hash_password("bench-password".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let seeded = seed::seed(&db, &hash).await?;
    println!("seeded in {:.1}s", t.elapsed().as_secs_f64());

    let port = free_port()?;
    let child = Command::new(bin)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .env("LIANXIN_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server(child);
    let server_addr = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        let mut c = Conn::new(&server_addr);
        if let Ok((200, _)) = c.send("GET", "/healthz", None, b"").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let config = api::Config::new(url, api::config::Secret::new(SECRET))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let token = |id: i64| {
        api::auth::issue_token(&config, id, 0)
            .map(|t| t.0)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    };
    let max = args.concurrency.iter().copied().max().unwrap_or(1);
    let mut tokens = Tokens {
        members: vec![],
        holders: vec![],
        students: vec![],
        residents: vec![],
    };
    for w in 0..max as i64 {
        tokens.members.push(token(seed::FREE_MEMBERS_FIRST + w)?);
        let holder = seed::RESIDENTS_FIRST + w;
        tokens
            .holders
            .push((token(holder)?, seed::community_of_user(holder)));
        tokens.students.push(token(seed::STUDENTS_FIRST + w)?);
        tokens
            .residents
            .push(token(seed::RESIDENTS_FIRST + 5_000 + w)?);
    }

    let baseline_port = free_port()?;
    let baseline_addr = format!("127.0.0.1:{baseline_port}");
    let baseline_child = Command::new(std::env::current_exe()?)
        .args(["--serve-baseline", &baseline_addr, "--database", url])
        .stdout(Stdio::null())
        .spawn()?;
    let baseline_server = Server(baseline_child);
    for _ in 0..200 {
        if scrape_statements(&baseline_addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let ctx = Arc::new(Ctx {
        server: server_addr.clone(),
        baseline: baseline_addr,
        tokens,
        published: seeded.published,
        shifts: seeded.shifts,
    });
    let ops = [
        Op::WishesPage,
        Op::BaselineWishes,
        Op::ContactCard,
        Op::MyPassbook,
        Op::ClaimRelease,
        Op::Redeem,
        Op::SignupCancel,
    ];
    let mut rows = Vec::new();
    let wanted = |op: Op| {
        args.operations
            .iter()
            .any(|o| o == "all" || o == op.short())
    };
    // The GraphQL wishes page and its baseline are measured in interleaved slices
    // (GraphQL, baseline, GraphQL, …), so that a burst of other load on the machine falls on
    // both alike; every other operation in one window.
    let slices = args.slices.max(1);
    let slice = Duration::from_secs_f64(args.seconds as f64 / slices as f64);
    for &c in &args.concurrency {
        let selected: Vec<Op> = ops.into_iter().filter(|&op| wanted(op)).collect();
        let mut samples: Vec<(Op, Sample)> = Vec::new();
        for &op in &selected {
            if op == Op::BaselineWishes && selected.contains(&Op::WishesPage) {
                continue;
            }
            // Warm up.
            let _ = measure(ctx.clone(), op, c, Duration::from_secs(1)).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            if op == Op::WishesPage && selected.contains(&Op::BaselineWishes) {
                let _ = measure(ctx.clone(), Op::BaselineWishes, c, Duration::from_secs(1)).await?;
                let (mut g, mut b) = (Sample::default(), Sample::default());
                for _ in 0..slices {
                    g.merge(measure(ctx.clone(), Op::WishesPage, c, slice).await?);
                    b.merge(measure(ctx.clone(), Op::BaselineWishes, c, slice).await?);
                }
                samples.push((Op::WishesPage, g));
                samples.push((Op::BaselineWishes, b));
                continue;
            }
            let window = Duration::from_secs(args.seconds);
            samples.push((op, measure(ctx.clone(), op, c, window).await?));
        }
        for (op, sample) in samples {
            let row = sample.row(op, c);
            println!(
                "{:<38} c={:<3} {:>8.0} req/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  errors {:<4} conflicts {:<5} SQL/req {:.2}",
                row.operation,
                row.concurrency,
                row.rps,
                row.p50_ms,
                row.p95_ms,
                row.p99_ms,
                row.errors,
                row.expected_conflicts,
                row.statements_per_request
            );
            rows.push(row);
        }
    }
    let peak = peak_memory_mb(server.0.id());
    let baseline_peak = peak_memory_mb(baseline_server.0.id());
    let rps = |op: Op, c: usize| {
        rows.iter()
            .find(|r| r.operation == op.name() && r.concurrency == c)
            .map(|r| r.rps)
            .unwrap_or(0.0)
    };
    let top = max;
    let ratio = if rps(Op::BaselineWishes, top) > 0.0 {
        rps(Op::WishesPage, top) / rps(Op::BaselineWishes, top)
    } else {
        0.0
    };
    let p99_ok = rows
        .iter()
        .filter(|r| {
            Op::WishesPage.name() == r.operation
                || r.operation.contains("contactCard")
                || r.operation.contains("myPassbook")
        })
        .all(|r| r.p99_ms <= 10.0 * r.p50_ms.max(0.001));
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let report = json!({
        "database": backend,
        "seconds_per_phase": args.seconds,
        "volume": {
            "communities": seed::COMMUNITIES, "grids": seed::TOP_GRIDS, "users": seed::USERS,
            "wishes": seed::WISHES, "passbooks": seed::PASSBOOKS,
            "ledger_entries": seed::PASSBOOKS * seed::ENTRIES_PER_PASSBOOK, "service_slots": seed::SLOTS,
        },
        "rows": rows,
        "server_peak_memory_mb": peak,
        "baseline_peak_memory_mb": baseline_peak,
        "graphql_vs_baseline_wishes_rps_ratio": ratio,
        "targets": {
            "graphql_at_least_70_percent_of_baseline": ratio >= 0.7,
            "p99_under_10x_p50_for_reads": p99_ok,
            "no_unexpected_errors": errors == 0,
            "peak_memory_under_200_mb": peak < 200.0,
        }
    });
    std::fs::write(
        out_dir.join(format!("report-{backend}.json")),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(
        out_dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let mut md = format!(
        "# lianxin benchmark ({backend})\n\nVolume: {} communities, {} grids (+ micro-grids), {} users, {} wishes, {} passbooks with {} ledger entries, {} service slots. {} s per phase.\n\n| operation | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors | expected CONFLICTs | SQL / request |\n|---|---|---|---|---|---|---|---|---|\n",
        seed::COMMUNITIES,
        seed::TOP_GRIDS,
        seed::USERS,
        seed::WISHES,
        seed::PASSBOOKS,
        seed::PASSBOOKS * seed::ENTRIES_PER_PASSBOOK,
        seed::SLOTS,
        args.seconds
    );
    let mut errors_md = String::new();
    for r in rows.iter().filter(|r| !r.error_samples.is_empty()) {
        println!(
            "errors in {} at c={}: {:?}",
            r.operation, r.concurrency, r.error_samples
        );
        errors_md.push_str(&format!(
            "\nErrors in {} at c={}: {:?}\n",
            r.operation, r.concurrency, r.error_samples
        ));
    }
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {:.2} |\n",
            r.operation,
            r.concurrency,
            r.rps,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.errors,
            r.expected_conflicts,
            r.statements_per_request
        ));
    }
    md.push_str(&errors_md);
    md.push_str(&format!(
        "\nServer peak memory (VmHWM): {peak:.1} MB (baseline process: {baseline_peak:.1} MB)\n\nGraphQL / baseline throughput for the wishes page at concurrency {top}: {ratio:.2}\n"
    ));
    std::fs::write(out_dir.join(format!("report-{backend}.md")), &md)?;
    std::fs::write(out_dir.join("report.md"), &md)?;
    println!("\n{md}");
    println!("reports written to {}", out_dir.display());
    drop(server);
    Ok(())
}
