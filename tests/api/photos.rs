//! Photos (incident reports and handling, wish fulfilment): checked by content, at most 5 MB
//! and 6 per step, EXIF (GPS) removed, turned upright, thumbnailed, and served by
//! `/files/{id}` only to viewers the owner's policy allows.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

/// A JPEG with an EXIF block holding an orientation (6: turn 90° clockwise to view) and a
/// GPS position, as a phone camera writes it.
fn camera_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&img)
        .expect("jpeg");
    // TIFF, little-endian: IFD0 at 8 with Orientation and a pointer to the GPS IFD at 38;
    // the GPS IFD with GPSLatitudeRef "N" and GPSLatitude at 68 (32° 6' 40").
    let mut t: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, [6, 0, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 68u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    for (n, d) in [(32u32, 1u32), (6, 1), (4000, 100)] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

/// Whether a JPEG carries an EXIF block whose first IFD points at GPS data.
fn has_exif_gps(jpeg: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        let body = &jpeg[i + 4..(i + 2 + len).min(jpeg.len())];
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            let t = &body[6..];
            let le = t.starts_with(b"II");
            let u16_at = |o: usize| {
                let b = [t[o], t[o + 1]];
                if le {
                    u16::from_le_bytes(b)
                } else {
                    u16::from_be_bytes(b)
                }
            };
            let ifd = 8;
            let n = u16_at(ifd) as usize;
            if (0..n).any(|k| u16_at(ifd + 2 + 12 * k) == 0x8825) {
                return true;
            }
        }
        if marker == 0xDA {
            break;
        }
        i += 2 + len;
    }
    false
}

fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, _| {
        image::Rgba([200, 30, 30, (x * 5) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

const REPORT: &str = "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id photos { id mediaType width height size url thumbnailUrl } history { toStatus photos { id } } } } }";

fn report_input(grid: &str, photos: usize) -> Value {
    json!({"in": {"gridId": grid, "location": "汇通路 3 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯损坏，夜间照明不足", "photos": vec![Value::Null; photos]}})
}

pub(crate) async fn incident_count(app: &TestApp) -> i64 {
    let admin = app.login("admin").await;
    let v = app
        .gql(Some(&admin), "{ incidents { totalCount } }", json!({}))
        .await;
    ok(&v)["incidents"]["totalCount"].as_i64().expect("count")
}

#[tokio::test]
async fn photos_are_checked_cleaned_thumbnailed_and_served_only_within_the_incidents_policy() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let member = app.login("member1").await;
    let wz_staff = app.login("wz-staff").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let camera = camera_jpeg(800, 600);
    assert!(has_exif_gps(&camera), "the test photo carries GPS");
    let png = png_with_alpha(50, 40);

    let v = app
        .gql_files(
            Some(&grid),
            REPORT,
            report_input(&ht1, 2),
            &[
                ("variables.in.photos.0", "IMG_0001.jpg", &camera),
                ("variables.in.photos.1", "sketch.png", &png),
            ],
        )
        .await;
    let incident = &ok(&v)["reportIncident"]["incident"];
    let photos = incident["photos"].as_array().expect("photos");
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[0]["mediaType"], "image/jpeg");
    // Turned upright by the EXIF orientation before the EXIF block was dropped.
    assert_eq!(
        (photos[0]["width"].clone(), photos[0]["height"].clone()),
        (json!(600), json!(800))
    );
    assert_eq!(photos[1]["mediaType"], "image/png");
    assert_eq!(
        (photos[1]["width"].clone(), photos[1]["height"].clone()),
        (json!(50), json!(40))
    );
    assert_eq!(incident["history"][0]["toStatus"], "REPORTED");
    assert_eq!(
        incident["history"][0]["photos"].as_array().map(Vec::len),
        Some(2)
    );
    let id = incident["id"].as_str().expect("id").to_owned();
    let photo_id = photos[0]["id"].as_str().expect("photo").to_owned();
    let png_id = photos[1]["id"].as_str().expect("photo").to_owned();

    // The link works without a header; the bytes have no EXIF and no GPS left.
    let url = photos[0]["url"].as_str().expect("url").to_owned();
    let (status, media, served) = app.get_bytes(None, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(media, "image/jpeg");
    assert_eq!(
        served.len() as i64,
        photos[0]["size"].as_i64().expect("size")
    );
    assert!(!has_exif_gps(&served));
    assert!(!served.windows(6).any(|w| w == b"Exif\0\0"));
    let decoded = image::load_from_memory(&served).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (600, 800));
    let (status, _, thumb) = app
        .get_bytes(None, photos[0]["thumbnailUrl"].as_str().expect("thumb"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let thumb = image::load_from_memory(&thumb).expect("a thumbnail");
    assert!(
        thumb.width() <= 320 && thumb.height() <= 320,
        "{}x{}",
        thumb.width(),
        thumb.height()
    );
    assert_eq!((thumb.width(), thumb.height()), (240, 320));
    // A link opens only the photo it was made for.
    let swapped = url.replacen(
        &format!("/files/{photo_id}"),
        &format!("/files/{png_id}"),
        1,
    );
    assert_eq!(
        app.get_bytes(None, &swapped).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bytes(None, &format!("{url}x")).await.0,
        StatusCode::UNAUTHORIZED
    );

    // With a header: the grid's workers and the community's staff; not the unit before it is
    // dispatched to it, not another community's staff, not a member, not anonymous: each is
    // told it does not exist, as for a missing id (no existence oracle).
    let file = format!("/files/{photo_id}");
    for (who, token, expected) in [
        ("grid", Some(&grid), StatusCode::OK),
        ("staff", Some(&staff), StatusCode::OK),
        ("rep-power", Some(&rep), StatusCode::NOT_FOUND),
        ("wz-staff", Some(&wz_staff), StatusCode::NOT_FOUND),
        ("member1", Some(&member), StatusCode::NOT_FOUND),
        ("anonymous", None, StatusCode::NOT_FOUND),
    ] {
        let (status, _, body) = app.get_bytes(token.map(String::as_str), &file).await;
        assert_eq!(status, expected, "{who}");
        if expected != StatusCode::OK {
            assert!(
                image::load_from_memory(&body).is_err(),
                "{who} got image bytes"
            );
        }
    }
    // The photo is not reachable through a login token as a link either.
    assert_eq!(
        app.get_bytes(None, &format!("{file}?access={grid}"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Bad photos refuse the whole report: nothing is created.
    let before = incident_count(&app).await;
    let text = b"this is a text file renamed to photo.jpg".to_vec();
    let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
    big.resize(6 * 1024 * 1024, 0);
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    for (name, bytes, needle) in [
        ("photo.jpg", &text, "JPEG"),
        ("big.jpg", &big, "5 MB"),
        ("anim.gif", &gif, "JPEG"),
    ] {
        let v = app
            .gql_files(
                Some(&grid),
                REPORT,
                report_input(&ht1, 1),
                &[("variables.in.photos.0", name, bytes)],
            )
            .await;
        assert_code(&v, "BAD_USER_INPUT");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{name}: {v}"
        );
    }
    let seven: Vec<(String, Vec<u8>)> = (0..7)
        .map(|i| (format!("variables.in.photos.{i}"), png_with_alpha(8, 8)))
        .collect();
    let files: Vec<(&str, &str, &[u8])> = seven
        .iter()
        .map(|(p, b)| (p.as_str(), "p.png", b.as_slice()))
        .collect();
    let v = app
        .gql_files(Some(&grid), REPORT, report_input(&ht1, 7), &files)
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    assert_eq!(incident_count(&app).await, before);

    // Dispatched to the power branch, its rep may fetch; the handling adds its own photo.
    let power = {
        let v = app
            .gql(
                Some(&staff),
                "{ organizations(first: 100) { nodes { id name } } }",
                json!({}),
            )
            .await;
        ok(&v)["organizations"]["nodes"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["name"] == "仙林供电所党支部"))
            .and_then(|o| o["id"].as_str())
            .expect("power")
            .to_owned()
    };
    for (token, q, vars) in [
        (
            &grid,
            "mutation($i: ID!) { whistleIncident(input: {incidentId: $i, note: \"需供电所处理\"}) { incident { status } } }",
            json!({"i": id}),
        ),
        (
            &staff,
            "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { status } } }",
            json!({"i": id, "o": power}),
        ),
        (
            &rep,
            "mutation($i: ID!) { acceptIncident(input: {incidentId: $i}) { incident { status } } }",
            json!({"i": id}),
        ),
    ] {
        let v = app.gql(Some(token), q, vars).await;
        ok(&v);
    }
    assert_eq!(app.get_bytes(Some(&rep), &file).await.0, StatusCode::OK);
    let v = app
        .gql_files(
            Some(&rep),
            "mutation($in: HandleIncidentInput!) { handleIncident(input: $in) { incident { status photos { id } history { toStatus photos { mediaType } } } } }",
            json!({"in": {"incidentId": id, "result": "已更换路灯", "photos": [null]}}),
            &[("variables.in.photos.0", "done.png", &png_with_alpha(64, 64))],
        )
        .await;
    let i = &ok(&v)["handleIncident"]["incident"];
    assert_eq!(i["status"], "HANDLED");
    assert_eq!(i["photos"].as_array().map(Vec::len), Some(3));
    let handled = i["history"]
        .as_array()
        .and_then(|h| h.iter().find(|s| s["toStatus"] == "HANDLED"))
        .expect("handled step");
    assert_eq!(handled["photos"], json!([{"mediaType": "image/png"}]));
}

#[tokio::test]
async fn wish_photos_are_uploads_and_old_addresses_stay_readable() {
    let app = TestApp::with_demo().await;
    // The demo's confirmed wish has a photo given as an address (an older record).
    let v = app
        .gql(
            None,
            "{ wishes(first: 100, status: CONFIRMED) { nodes { photoUrls photos { id } } } }",
            json!({}),
        )
        .await;
    let nodes = ok(&v)["wishes"]["nodes"].as_array().expect("nodes").clone();
    assert!(nodes.iter().any(|n| n["photoUrls"]
        == json!(["https://img.example.cn/lianxin/demo/faucet.jpg"])
        && n["photos"] == json!([])));

    let grid = app.login("grid").await;
    let member = app.login("member1").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let v = app
        .gql(
            Some(&grid),
            "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"换灯泡\", description: \"楼道灯泡坏了\", category: SERVICE, beneficiaryName: \"李大爷\"}) { wish { id } } }",
            json!({"g": ht1}),
        )
        .await;
    let id = ok(&v)["submitWish"]["wish"]["id"].clone();
    let staff = app.login("staff").await;
    ok(&app
        .gql(
            Some(&staff),
            "mutation($id: ID!) { reviewWish(input: {wishId: $id, decision: PUBLISH}) { wish { status } } }",
            json!({"id": id}),
        )
        .await);
    ok(&app
        .gql(
            Some(&member),
            "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { status } } }",
            json!({"id": id}),
        )
        .await);
    // Ten photos in all (9 uploads and an address) are too many; nothing changes.
    let many: Vec<(String, Vec<u8>)> = (0..9)
        .map(|i| (format!("variables.in.photos.{i}"), png_with_alpha(8, 8)))
        .collect();
    let files: Vec<(&str, &str, &[u8])> = many
        .iter()
        .map(|(p, b)| (p.as_str(), "p.png", b.as_slice()))
        .collect();
    let fulfil = "mutation($in: FulfillWishInput!) { fulfillWish(input: $in) { wish { status photoUrls photos { id url mediaType } } } }";
    let v = app
        .gql_files(
            Some(&member),
            fulfil,
            json!({"in": {"wishId": id, "note": "已更换", "photos": vec![Value::Null; 9], "photoUrls": ["https://img.example.cn/x.jpg"]}}),
            &files,
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    let v = app
        .gql_files(
            Some(&member),
            fulfil,
            json!({"in": {"wishId": id, "note": "已更换", "photos": [null]}}),
            &[("variables.in.photos.0", "bulb.jpg", &camera_jpeg(400, 300))],
        )
        .await;
    let w = &ok(&v)["fulfillWish"]["wish"];
    assert_eq!(w["status"], "FULFILLED");
    assert_eq!(w["photos"].as_array().map(Vec::len), Some(1));
    let urls = w["photoUrls"].as_array().expect("urls");
    assert_eq!(urls.len(), 1);
    assert_eq!(urls[0], w["photos"][0]["url"]);
    assert!(urls[0].as_str().unwrap_or("").starts_with("/files/"));
    // A fulfilled wish is on the public wall: an anonymous viewer's link opens its photo.
    let v = app
        .gql(
            None,
            "query($id: ID!) { wish(id: $id) { photos { url } } }",
            json!({"id": id}),
        )
        .await;
    let url = ok(&v)["wish"]["photos"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let (status, media, bytes) = app.get_bytes(None, &url).await;
    assert_eq!((status, media.as_str()), (StatusCode::OK, "image/jpeg"));
    assert!(!has_exif_gps(&bytes));
}
