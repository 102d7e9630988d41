//! Budgets before work: each bomb is built here and sent as an attacker would; each is
//! refused within 2 s with a coded error, the server's memory grows by less than 256 MB, and
//! `/healthz` keeps answering meanwhile.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};
use crate::photos::incident_count;

/// The most the server's resident memory may grow while refusing a bomb.
const RSS_BOUND_KB: u64 = 256 * 1024;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `attack` while `/healthz` is asked every 20 ms; returns its answer, how long it
/// took, the slowest health answer and the memory growth (kB).
async fn under_watch<F>(app: &TestApp, attack: F) -> (Value, Duration, Duration, u64)
where
    F: std::future::Future<Output = Value> + Send + 'static,
{
    let before = rss_kb();
    let started = Instant::now();
    let task = tokio::spawn(attack);
    let mut slowest = Duration::ZERO;
    let mut peak = before;
    while !task.is_finished() {
        let asked = Instant::now();
        let (status, _) = app
            .send(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        slowest = slowest.max(asked.elapsed());
        peak = peak.max(rss_kb());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = task.await.expect("attack");
    let took = started.elapsed();
    peak = peak.max(rss_kb());
    (answer, took, slowest, peak.saturating_sub(before))
}

fn assert_refused(what: &str, v: &Value, took: Duration, slowest: Duration, grew_kb: u64) {
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{what}: {v}"
    );
    assert!(took < Duration::from_secs(2), "{what}: took {took:?}");
    assert!(
        slowest < Duration::from_millis(100),
        "{what}: /healthz took {slowest:?}"
    );
    assert!(
        grew_kb < RSS_BOUND_KB,
        "{what}: memory grew by {grew_kb} kB"
    );
}

// --- PNG -------------------------------------------------------------------------------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG whose header declares `side`×`side` RGBA (11500² is 529 MB decoded), with a few
/// rows of real image data: a small file that claims a huge picture.
fn png_bomb(side: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib: one stored (uncompressed) deflate block of 16 KB of zeros.
    let mut idat = vec![0x78, 0x01, 0x00];
    let n: u16 = 16 * 1024;
    idat.extend(n.to_le_bytes());
    idat.extend((!n).to_le_bytes());
    idat.extend(vec![0u8; n as usize]);
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn a_png_declaring_11500_squared_rgba_is_refused_before_decoding() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let bomb = png_bomb(11_500);
    assert!(bomb.len() < 64 * 1024);
    let before: i64 = incident_count(&app).await;
    let probe = app.sharing();
    let (v, took, slowest, grew) = under_watch(&app, async move {
        probe
            .gql_files(
                Some(&grid),
                "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id } } }",
                json!({"in": {"gridId": ht1, "location": "汇通路 3 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯损坏", "photos": [null, null, null, null, null, null]}}),
                &[
                    ("variables.in.photos.0", "a.png", bomb.as_slice()),
                    ("variables.in.photos.1", "b.png", bomb.as_slice()),
                    ("variables.in.photos.2", "c.png", bomb.as_slice()),
                    ("variables.in.photos.3", "d.png", bomb.as_slice()),
                    ("variables.in.photos.4", "e.png", bomb.as_slice()),
                    ("variables.in.photos.5", "f.png", bomb.as_slice()),
                ],
            )
            .await
    })
    .await;
    assert_refused("PNG bomb", &v, took, slowest, grew);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("11500×11500"),
        "{v}"
    );
    assert_eq!(incident_count(&app).await, before, "nothing recorded");
}

// --- spreadsheets ----------------------------------------------------------------------

/// Deflate bits, least significant first; Huffman codes are written most significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn code(&mut self, code: u64, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw deflate stream of `prefix` followed by `bytes` more copies of its last byte, in one
/// fixed-Huffman block: 13 bits for every 258 bytes.
fn deflate_bomb(prefix: &[u8], bytes: u64) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(1, 1); // BFINAL
    b.put(1, 2); // fixed Huffman
    for &c in prefix {
        let c = u64::from(c);
        if c < 144 {
            b.code(0x30 + c, 8);
        } else {
            b.code(0x190 + (c - 144), 9);
        }
    }
    for _ in 0..bytes / 258 {
        b.code(0xC0 + 5, 8); // length code 285: 258 bytes
        b.code(0, 5); // distance code 0: 1 back
    }
    b.code(0, 7); // end of block
    b.finish()
}

/// A zip archive of one deflated entry, declaring `declared` bytes inflated.
fn zip_of(name: &str, deflated: &[u8], declared: u64) -> Vec<u8> {
    let declared = declared.min(u64::from(u32::MAX)) as u32;
    let mut out = Vec::new();
    let local = |out: &mut Vec<u8>| {
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 0, 0, 8, 0, 0, 0, 0x21, 0]);
        out.extend(0u32.to_le_bytes()); // crc (never reached)
        out.extend((deflated.len() as u32).to_le_bytes());
        out.extend(declared.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
    };
    local(&mut out);
    out.extend(deflated);
    let central_at = out.len() as u32;
    out.extend(0x0201_4b50u32.to_le_bytes());
    out.extend([20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0x21, 0]);
    out.extend(0u32.to_le_bytes());
    out.extend((deflated.len() as u32).to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend((name.len() as u16).to_le_bytes());
    out.extend([0u8; 8]); // extra, comment, disk, internal attributes
    out.extend(0u32.to_le_bytes()); // external attributes
    out.extend(0u32.to_le_bytes()); // local header at 0
    out.extend(name.as_bytes());
    let central_len = out.len() as u32 - central_at;
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend(central_len.to_le_bytes());
    out.extend(central_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

const IMPORT: &str = "mutation($in: ImportPeopleInput!) { importPeople(input: $in) { created problems { row reason } } }";

async fn import_watched(app: &TestApp, file: Vec<u8>) -> (Value, Duration, Duration, u64) {
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let probe = app.sharing();
    under_watch(app, async move {
        probe
            .gql_upload(
                Some(&staff),
                IMPORT,
                json!({"in": {"communityId": huitong, "file": null}}),
                "variables.in.file",
                "people.xlsx",
                &file,
            )
            .await
    })
    .await
}

#[tokio::test]
async fn an_xlsx_whose_sheet_inflates_past_500_mb_is_refused_before_parsing() {
    let app = TestApp::with_demo().await;
    let sheet = b"<?xml version=\"1.0\"?><worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>x";
    let inflated: u64 = 546 * 1024 * 1024;
    let deflated = deflate_bomb(sheet, inflated);
    // Declared honestly, and declared as 4 KB (a lie the reader must not trust).
    for declared in [inflated, 4096] {
        let bomb = zip_of("xl/worksheets/sheet1.xml", &deflated, declared);
        assert!(bomb.len() < 4 * 1024 * 1024);
        let (v, took, slowest, grew) = import_watched(&app, bomb).await;
        let what = format!("xlsx bomb declaring {declared} bytes");
        if declared == inflated {
            assert_refused(&what, &v, took, slowest, grew);
            assert_eq!(v["errors"][0]["extensions"]["field"], "file", "{v}");
        } else {
            // The reader stops at the declared size: a file that does not read as declared
            // is the file's problem, and nothing is imported.
            assert_eq!(ok(&v)["importPeople"]["created"], 0, "{what}: {v}");
            assert_eq!(
                v["data"]["importPeople"]["problems"][0]["row"], 0,
                "{what}: {v}"
            );
            assert!(took < Duration::from_secs(2), "{what}: took {took:?}");
            assert!(
                slowest < Duration::from_millis(100),
                "{what}: /healthz took {slowest:?}"
            );
            assert!(grew < RSS_BOUND_KB, "{what}: memory grew by {grew} kB");
        }
    }
}

#[tokio::test]
async fn a_sparse_xlsx_with_a1_and_xfd1048576_is_refused_by_position() {
    let app = TestApp::with_demo().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "用户名").expect("A1");
    sheet
        .write_string(1_048_575, 16_383, "x")
        .expect("XFD1048576");
    let bytes = book.save_to_buffer().expect("xlsx");
    assert!(bytes.len() < 16 * 1024);
    let (v, took, slowest, grew) = import_watched(&app, bytes).await;
    assert_refused("sparse xlsx", &v, took, slowest, grew);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1048576"),
        "{v}"
    );
}

// --- multipart -------------------------------------------------------------------------

#[tokio::test]
async fn a_hundred_file_parts_and_a_name_given_twice_are_refused_before_parsing() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let tiny = b"not even an image".to_vec();
    let paths: Vec<String> = (0..100)
        .map(|i| format!("variables.in.photos.{i}"))
        .collect();
    let files: Vec<(&str, &str, &[u8])> = paths
        .iter()
        .map(|p| (p.as_str(), "x.png", tiny.as_slice()))
        .collect();
    let started = Instant::now();
    let v = app
        .gql_files(
            Some(&grid),
            "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id } } }",
            json!({"in": {"gridId": ht1, "location": "汇通路 3 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯损坏", "photos": vec![Value::Null; 100]}}),
            &files,
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // Two parts named `0`.
    let boundary = "b0undary";
    let mut body = Vec::new();
    for (name, content) in [
        ("operations", json!({"query": "mutation($f: Upload!) { importPeople(input: {communityId: \"1\", file: $f}) { created } }", "variables": {"f": null}}).to_string()),
        ("map", json!({"0": ["variables.f"]}).to_string()),
        ("0", "a,b".to_owned()),
        ("0", "c,d".to_owned()),
    ] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"f.csv\"\r\n\r\n{content}\r\n").as_bytes(),
        );
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let staff = app.login("staff").await;
    let (status, bytes) = app
        .send(
            Request::post("/graphql")
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header("authorization", format!("Bearer {staff}"))
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
}

#[tokio::test]
async fn a_40_mb_anonymous_multipart_body_is_refused_without_reading_it() {
    let app = TestApp::spawn().await;
    let boundary = "anon";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{{}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"big.bin\"\r\n\r\n"
    )
    .into_bytes();
    body.resize(40 * 1024 * 1024, b'a');
    // The body is streamed slowly: an answer before it is sent shows it was never read.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let sender = tokio::spawn(async move {
        for chunk in body.chunks(1024 * 1024) {
            if tx.send(Ok(chunk.to_vec())).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let started = Instant::now();
    let (status, bytes) = app
        .send(
            Request::post("/graphql")
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from_stream(stream))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The sender had not finished: the body was refused, not read.
    assert!(!sender.is_finished() || !sender.await.expect("sender"));
}

#[tokio::test]
async fn a_csv_of_three_million_rows_or_five_million_columns_is_refused_at_the_budget() {
    let app = TestApp::with_demo().await;
    // 6 MB: three million one-cell rows.
    let mut tall = "用户名,姓名,手机号,身份,网格,开通存折\n"
        .as_bytes()
        .to_vec();
    while tall.len() < 6 * 1024 * 1024 {
        tall.extend_from_slice(b"a\n");
    }
    // 5 MB: one row of five million empty cells.
    let mut wide = "用户名,姓名,手机号,身份,网格,开通存折\n"
        .as_bytes()
        .to_vec();
    wide.resize(wide.len() + 5 * 1024 * 1024, b',');
    for (what, file, needle) in [("tall CSV", tall, "20000"), ("wide CSV", wide, "64")] {
        let (v, took, slowest, grew) = import_watched(&app, file).await;
        assert_refused(what, &v, took, slowest, grew);
        assert_eq!(v["errors"][0]["extensions"]["field"], "file", "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{what}: {v}"
        );
    }
}
