//! The mini-program contract (#28): subscriptions over SSE read as a raw chunked response
//! (as `wx.request({enableChunked: true})` reads them), catch-up after a reconnect, uploads
//! as `wx.uploadFile` sends them, trusted documents, and cache headers.

use std::time::Duration;

use axum::{body::Body, http::Request, http::StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, ok, serve};

/// A raw HTTP/1.1 client of `POST /graphql/stream`: it decodes the chunked transfer coding
/// itself and splits the text into SSE events on blank lines, as a client without
/// `EventSource` must.
pub(crate) struct ChunkedSse {
    stream: tokio::net::TcpStream,
    /// Bytes read but not yet decoded.
    raw: Vec<u8>,
    /// Decoded text not yet split into events.
    text: String,
    pub status: u16,
    pub head: String,
    ended: bool,
}

impl ChunkedSse {
    pub(crate) async fn open(
        addr: std::net::SocketAddr,
        token: Option<&str>,
        body: &Value,
    ) -> Self {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let body = body.to_string();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST /graphql/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut client = Self {
            stream,
            raw: Vec::new(),
            text: String::new(),
            status: 0,
            head: String::new(),
            ended: false,
        };
        // The response head.
        loop {
            if let Some(at) = find(&client.raw, b"\r\n\r\n") {
                client.head = String::from_utf8_lossy(&client.raw[..at]).to_string();
                client.raw.drain(..at + 4);
                break;
            }
            assert!(client.read().await, "the server closed before answering");
        }
        client.status = client.head[9..12].parse().expect("status");
        client
    }

    async fn read(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        match self.stream.read(&mut buf).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.raw.extend_from_slice(&buf[..n]);
                true
            }
        }
    }

    /// Decodes the complete chunks read so far.
    fn decode(&mut self) {
        loop {
            let Some(line_end) = find(&self.raw, b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&self.raw[..line_end]).to_string();
            let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
            if size == 0 {
                self.ended = true;
                return;
            }
            if self.raw.len() < line_end + 2 + size + 2 {
                return;
            }
            let chunk = self.raw[line_end + 2..line_end + 2 + size].to_vec();
            self.raw.drain(..line_end + 2 + size + 2);
            self.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event (`(event, data)`), skipping keep-alive comments; `None` when the
    /// stream ended or nothing came within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.decode();
            while let Some(at) = self.text.find("\n\n") {
                let block: String = self.text.drain(..at + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if !event.is_empty() {
                    return Some((event, data));
                }
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.read()).await {
                Ok(true) => {}
                _ => return None,
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

const WISH_EVENTS: &str = "subscription($after: String) { wishEvents(communityId: \"1\", after: $after) { cursor kind wish { id status beneficiaryName } } }";

fn wish_event(data: &str) -> Value {
    let v: Value = serde_json::from_str(data).expect("json");
    v["data"]["wishEvents"].clone()
}

async fn mutate(app: &TestApp, token: &str, q: &str) {
    ok(&app.gql(Some(token), q, json!({})).await);
}

#[tokio::test]
async fn sse_streams_events_by_chunks_ends_for_a_revoked_viewer_and_replays_after_a_cursor() {
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let member1 = app.login("member1").await;
    let resident = app.login("resident1").await;
    let staff = app.login("staff").await;
    let body = json!({"query": WISH_EVENTS, "variables": {}});
    let mut anon = ChunkedSse::open(addr, None, &body).await;
    assert_eq!(anon.status, 200, "{}", anon.head);
    let head = anon.head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut staff_sse = ChunkedSse::open(addr, Some(&staff), &body).await;
    // A viewer whose login is about to end.
    let grid = app.login("grid").await;
    let mut grid_sse = ChunkedSse::open(addr, Some(&grid), &body).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    mutate(
        &app,
        &member1,
        "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
    )
    .await;
    let (event, data) = anon.next(Duration::from_secs(5)).await.expect("event");
    assert_eq!(event, "next");
    let ev = wish_event(&data);
    assert_eq!(ev["kind"], "CLAIMED", "{data}");
    assert_eq!(ev["wish"]["beneficiaryName"], "王**");
    let first_cursor = ev["cursor"].as_str().expect("cursor").to_owned();
    let staff_ev = wish_event(
        &staff_sse
            .next(Duration::from_secs(5))
            .await
            .expect("staff")
            .1,
    );
    assert_eq!(staff_ev["wish"]["beneficiaryName"], "王秀英");
    assert_eq!(staff_ev["cursor"], first_cursor.as_str());
    let _ = grid_sse
        .next(Duration::from_secs(5))
        .await
        .expect("grid event");

    // The grid worker logs out everywhere: their stream sends the error and completes.
    mutate(&app, &grid, "mutation { logoutEverywhere { at } }").await;
    app.settle().await;
    // Anonymous viewers go away (the app went to the background).
    drop(anon);
    // While away: a release (the wish is public again: theirs to see) and the cancellation
    // of a wish still under review (not theirs to see).
    mutate(&app, &member1, "mutation { releaseWishClaim(input: {wishId: \"1\", reason: \"临时有事\"}) { wish { id } } }").await;
    mutate(
        &app,
        &resident,
        "mutation { cancelWish(input: {wishId: \"5\", reason: \"不需要了\"}) { wish { id } } }",
    )
    .await;
    let (event, data) = grid_sse.next(Duration::from_secs(5)).await.expect("last");
    assert_eq!(event, "next");
    let v: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{v}"
    );
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "TOKEN_REVOKED",
        "{v}"
    );
    assert_eq!(
        grid_sse.next(Duration::from_secs(5)).await,
        Some(("complete".to_owned(), String::new()))
    );
    assert_eq!(grid_sse.next(Duration::from_secs(2)).await, None);

    // Back, after the first cursor: exactly the missed event the anonymous viewer may see.
    let resumed = json!({"query": WISH_EVENTS, "variables": {"after": first_cursor}});
    let mut anon = ChunkedSse::open(addr, None, &resumed).await;
    let ev = wish_event(&anon.next(Duration::from_secs(5)).await.expect("replay").1);
    assert_eq!(
        (ev["kind"].as_str(), ev["wish"]["id"].as_str()),
        (Some("RELEASED"), Some("1"))
    );
    let release_cursor = ev["cursor"].as_str().expect("cursor").to_owned();
    assert!(release_cursor.parse::<i64>().expect("n") > first_cursor.parse::<i64>().expect("n"));
    assert!(
        anon.next(Duration::from_millis(500)).await.is_none(),
        "only what they may see"
    );
    // Staff, resumed at the same place, see both.
    let mut staff_back = ChunkedSse::open(addr, Some(&staff), &resumed).await;
    let kinds: Vec<String> = [
        staff_back.next(Duration::from_secs(5)).await,
        staff_back.next(Duration::from_secs(5)).await,
    ]
    .into_iter()
    .map(|e| {
        wish_event(&e.expect("replay").1)["kind"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    })
    .collect();
    assert_eq!(kinds, vec!["RELEASED", "CANCELLED"]);
    // Then live: the next event arrives once, after the replay.
    mutate(
        &app,
        &member1,
        "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
    )
    .await;
    let ev = wish_event(&anon.next(Duration::from_secs(5)).await.expect("live").1);
    assert_eq!(ev["kind"], "CLAIMED");
    assert!(anon.next(Duration::from_millis(300)).await.is_none());
    // A bad cursor is a coded input error.
    let mut bad = ChunkedSse::open(
        addr,
        None,
        &json!({"query": WISH_EVENTS, "variables": {"after": "yesterday"}}),
    )
    .await;
    let (_, data) = bad.next(Duration::from_secs(5)).await.expect("error");
    let v: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert_eq!(
        bad.next(Duration::from_secs(5)).await.map(|e| e.0),
        Some("complete".into())
    );
}

/// A `multipart/form-data` body as `wx.uploadFile` sends it: the `formData` fields as text
/// parts, then the file under the `name` given (`file`), with the temporary file's name and
/// a content type guessed from its extension.
pub(crate) fn wx_upload_body(purpose: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----WxFormBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
        )
        .as_bytes(),
    );
    let media = if file_name.ends_with(".png") {
        "image/png"
    } else if file_name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "application/octet-stream"
    };
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {media}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    purpose: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let (content_type, body) = wx_upload_body(purpose, name, bytes);
    let req = Request::post("/uploads")
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request");
    let (status, body) = app.send(req).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[tokio::test]
async fn uploads_in_two_steps_attach_once_to_their_owner_only_and_expire() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let member = app.login("member1").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let mut ids = Vec::new();
    for seed in 0..3 {
        let (status, v) = upload(
            &app,
            &grid,
            "INCIDENT_PHOTO",
            &format!("tmp_{seed}.png"),
            &png(64, 48, seed),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["purpose"], "INCIDENT_PHOTO");
        assert_eq!(
            (v["width"].as_i64(), v["height"].as_i64()),
            (Some(64), Some(48))
        );
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    // Checked as the multipart path checks: not an image, the wrong purpose, no purpose.
    let (status, v) = upload(
        &app,
        &grid,
        "INCIDENT_PHOTO",
        "tmp.jpg",
        b"GIF89a not a photo",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let (status, v) = upload(&app, &grid, "AVATAR", "tmp.png", &png(8, 8, 1)).await;
    assert_eq!(
        (status, v["errors"][0]["extensions"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("purpose"))
    );
    // Another user's ids: NOT_FOUND, and nothing is created.
    let report = "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id photos { id width height url } } } }";
    let input = |ids: &[String]| json!({"in": {"gridId": ht1, "location": "汇通路 8 号", "category": "PAIN", "subject": "SAFETY", "description": "井盖松动", "photoUploadIds": ids}});
    let before = crate::photos::incident_count(&app).await;
    let v = app.gql(Some(&member), report, input(&ids)).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "NOT_FOUND", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "UPLOAD_NOT_FOUND",
        "{v}"
    );
    assert_eq!(crate::photos::incident_count(&app).await, before);
    // The owner attaches all three: the incident has them, in order.
    let v = app.gql(Some(&grid), report, input(&ids)).await;
    let photos = &ok(&v)["reportIncident"]["incident"]["photos"];
    assert_eq!(photos.as_array().map(Vec::len), Some(3), "{v}");
    assert_eq!(photos[0]["width"], 64);
    // Attached once: the same ids again are gone.
    let v = app.gql(Some(&grid), report, input(&ids[..1])).await;
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "UPLOAD_NOT_FOUND",
        "{v}"
    );
    // A photo for a wish is not one for an incident.
    let (_, v) = upload(&app, &grid, "WISH_PHOTO", "tmp.png", &png(16, 16, 2)).await;
    let wish_photo = v["id"].as_str().expect("id").to_owned();
    let v = app
        .gql(
            Some(&grid),
            report,
            input(std::slice::from_ref(&wish_photo)),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "UPLOAD_WRONG_PURPOSE",
        "{v}"
    );
    // Photo URLs are absolute with a public base address.
    let public =
        TestApp::spawn_with(|c| c.public_base_url = Some("https://api.lianxin.example/".into()))
            .await;
    api::demo::seed(&public.state.db, &public.state.config)
        .await
        .expect("demo");
    let g = public.login("grid").await;
    let (_, v) = upload(&public, &g, "INCIDENT_PHOTO", "tmp.png", &png(20, 20, 3)).await;
    let id = v["id"].as_str().expect("id").to_owned();
    let ht1p = public.grid_id("汇通第一网格").await;
    let v = public
        .gql(Some(&g), report, json!({"in": {"gridId": ht1p, "location": "汇通路 9 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯不亮", "photoUploadIds": [id]}}))
        .await;
    let url = ok(&v)["reportIncident"]["incident"]["photos"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(
        url.starts_with("https://api.lianxin.example/files/"),
        "{url}"
    );
    // The expiry job removes what was never attached, after 24 hours only.
    assert_eq!(
        api::files::pending::expire(app.db(), app.state.config.pending_upload_ttl)
            .await
            .expect("expire"),
        0
    );
    assert_eq!(
        api::files::pending::expire(app.db(), Duration::ZERO)
            .await
            .expect("expire"),
        1
    );
    let v = app
        .gql(
            Some(&grid),
            "{ myPersonalData { pendingUploads { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["myPersonalData"]["pendingUploads"], json!([]));
    // A spreadsheet uploaded ahead, imported by id.
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let csv = "用户名,姓名,身份\nwx-import-1,吴小宝,居民\n".as_bytes();
    let (status, v) = upload(&app, &staff, "PEOPLE_IMPORT", "people.csv", csv).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let file = v["id"].as_str().expect("id").to_owned();
    let v = app
        .gql(
            Some(&staff),
            "mutation($c: ID!, $f: ID!) { importPeople(input: {communityId: $c, fileUploadId: $f}) { created problems { reason } } }",
            json!({"c": huitong, "f": file}),
        )
        .await;
    assert_eq!(ok(&v)["importPeople"]["created"], 1, "{v}");
    // Anonymous callers are refused before the body is read.
    let (content_type, body) = wx_upload_body("INCIDENT_PHOTO", "tmp.png", &png(8, 8, 0));
    let req = Request::post("/uploads")
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    assert_eq!(app.send(req).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn trusted_documents_alone_run_in_production_by_post_and_get() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("lx-trusted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let manifest = dir.join("persisted-documents.json");
    let me = "query Me { me { username } }";
    let me_id = "sha256:".to_owned() + &api::graphql::trusted::document_id(me);
    std::fs::write(&manifest, json!({ &me_id[7..]: me }).to_string()).expect("write");
    let trusted = api::graphql::trusted::load(&[root.join("docs/operations"), manifest.clone()])
        .expect("manifest");
    std::fs::remove_dir_all(&dir).ok();
    assert!(trusted.by_id.len() > 5);
    let trusted = std::sync::Arc::new(trusted);
    let app = TestApp::spawn_with(move |c| {
        c.environment = api::config::Environment::Production;
        c.trusted_documents = Some(trusted);
    })
    .await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    // Logged in through the registered login document (its text, addressed by id).
    let login_text =
        std::fs::read_to_string(root.join("docs/operations/login.graphql")).expect("login");
    let (_, v) = app
        .post_raw(
            None,
            json!({
                "documentId": api::graphql::trusted::document_id(&login_text),
                "variables": {"username": "member1", "password": "lianxin-demo"}
            })
            .to_string()
            .into_bytes(),
        )
        .await;
    let token = ok(&v)["login"]["token"].as_str().expect("token").to_owned();
    // A registered document by POST (documentId) and by GET.
    let (_, v) = app
        .post_raw(
            Some(&token),
            json!({"documentId": me_id}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(ok(&v)["me"]["username"], "member1");
    let (status, _, body) = app
        .get_bytes(
            Some(&token),
            &format!("/graphql?documentId={}", me_id.replace(':', "%3A")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(ok(&v)["me"]["username"], "member1");
    // The same text sent in full is one of them: it runs.
    let v = app.gql(Some(&token), me, json!({})).await;
    assert_eq!(ok(&v)["me"]["username"], "member1");
    // Anything else is refused, by POST, by GET and by an unknown id.
    for v in [
        app.gql(Some(&token), "{ me { id username } }", json!({}))
            .await,
        app.post_raw(
            Some(&token),
            json!({"documentId": "sha256:00ff"})
                .to_string()
                .into_bytes(),
        )
        .await
        .1,
        {
            let (_, _, body) = app
                .get_bytes(
                    Some(&token),
                    "/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D",
                )
                .await;
            serde_json::from_slice(&body).expect("json")
        },
    ] {
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
            "{v}"
        );
        assert_eq!(
            v["errors"][0]["extensions"]["reason"], "DOCUMENT_NOT_TRUSTED",
            "{v}"
        );
        assert!(v["data"].is_null());
    }
    // The WebSocket and SSE doors hold the same rule.
    let addr = serve(app.router.clone()).await;
    let mut sse = ChunkedSse::open(
        addr,
        Some(&token),
        &json!({"query": "subscription { incidentEvents { kind } }"}),
    )
    .await;
    let (_, data) = sse.next(Duration::from_secs(5)).await.expect("refusal");
    let v: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "DOCUMENT_NOT_TRUSTED",
        "{v}"
    );
}

#[tokio::test]
async fn get_answers_are_private_for_a_viewer_and_briefly_public_for_anonymous() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let get = |token: Option<String>, query: &'static str| {
        let app = &app;
        async move {
            let mut req = Request::get(format!(
                "/graphql?query={}",
                query
                    .replace(' ', "%20")
                    .replace('{', "%7B")
                    .replace('}', "%7D")
            ));
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let response = tower::ServiceExt::oneshot(
                app.router.clone(),
                req.body(Body::empty()).expect("request"),
            )
            .await
            .expect("infallible");
            let h = response.headers();
            (
                h.get("cache-control")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned(),
                h.get("vary")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned(),
            )
        }
    };
    // A staff member's answer holds whole phone numbers: never in a shared cache.
    assert_eq!(
        get(
            Some(staff.clone()),
            "{ wishes(first: 5) { nodes { beneficiaryPhone } } }"
        )
        .await,
        ("private, no-store".to_owned(), "Authorization".to_owned())
    );
    assert_eq!(
        get(None, "{ wishes(first: 5) { nodes { title } } }").await,
        ("public, max-age=30".to_owned(), "Authorization".to_owned())
    );
    // An anonymous answer with errors is not kept.
    assert_eq!(get(None, "{ myPassbook { id } }").await.0, "no-store");
    // POST answers are never cached.
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"query": "{ communities(first: 1) { totalCount } }"}).to_string(),
        ))
        .expect("request");
    let response = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .expect("infallible");
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

#[tokio::test]
async fn an_upload_named_by_two_racing_mutations_is_attached_once() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let (_, v) = upload(&app, &grid, "INCIDENT_PHOTO", "tmp.png", &png(24, 24, 7)).await;
    let id = v["id"].as_str().expect("id").to_owned();
    let report = "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id photos { id } } } }";
    let input = json!({"in": {"gridId": ht1, "location": "汇通路 5 号", "category": "PAIN", "subject": "SAFETY", "description": "井盖松动", "photoUploadIds": [id]}});
    let before = crate::photos::incident_count(&app).await;
    let (a, b) = tokio::join!(
        app.gql(Some(&grid), report, input.clone()),
        app.gql(Some(&grid), report, input.clone())
    );
    let won: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|v| v["errors"].is_null())
        .collect();
    assert_eq!(won.len(), 1, "{a} {b}");
    let lost = if a["errors"].is_null() { &b } else { &a };
    assert_eq!(
        lost["errors"][0]["extensions"]["reason"], "UPLOAD_NOT_FOUND",
        "{lost}"
    );
    assert_eq!(crate::photos::incident_count(&app).await, before + 1);
    assert_eq!(
        won[0]["data"]["reportIncident"]["incident"]["photos"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
