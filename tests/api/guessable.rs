//! A schema front-end teams can guess (#29): where the GraphQL spec still slipped.

use chrono::Datelike;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};

/// The keys of a JSON object, in the order the response carries them.
fn keys(raw: &str, path: &[&str]) -> Vec<String> {
    // serde_json's `preserve_order` is off here: read the order from the text itself.
    let v: Value = serde_json::from_str(raw).expect("json");
    let mut node = &v;
    for p in path {
        node = &node[*p];
    }
    let object = node.as_object().expect("object");
    let mut found: Vec<(usize, String)> = object
        .keys()
        .map(|k| {
            let needle = format!("\"{k}\":");
            (raw.find(&needle).unwrap_or(usize::MAX), k.clone())
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

#[tokio::test]
async fn an_omitted_variable_lets_the_arguments_default_apply() {
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    for (query, path) in [
        (
            "query($m: Boolean, $s: Boolean) { wishes(claimedByMe: $m, submittedByMe: $s) { totalCount } }",
            "wishes",
        ),
        (
            "query($o: Boolean) { serviceSlots(openForMe: $o) { totalCount } }",
            "serviceSlots",
        ),
        (
            "query($f: Boolean) { shifts(hasFreePlaces: $f) { totalCount } }",
            "shifts",
        ),
        (
            "query($a: Boolean) { rewards(activeOnly: $a) { totalCount } }",
            "rewards",
        ),
    ] {
        let omitted = app.gql(Some(&member), query, json!({})).await;
        let data = ok(&omitted);
        // The same as the argument left out altogether.
        let bare = query
            .split_once('{')
            .map(|(_, rest)| format!("{{{rest}"))
            .expect("body");
        let bare = bare
            .replace("(claimedByMe: $m, submittedByMe: $s)", "")
            .replace("(openForMe: $o)", "")
            .replace("(hasFreePlaces: $f)", "")
            .replace("(activeOnly: $a)", "");
        let plain = app.gql(Some(&member), &bare, json!({})).await;
        assert_eq!(
            data[path]["totalCount"],
            ok(&plain)[path]["totalCount"],
            "{query}"
        );
    }
    // An explicit value still counts.
    let v = app
        .gql(
            Some(&member),
            "query($m: Boolean) { wishes(claimedByMe: $m) { totalCount } }",
            json!({"m": true}),
        )
        .await;
    assert_eq!(ok(&v)["wishes"]["totalCount"], 1);
}

#[tokio::test]
async fn a_subscription_selects_exactly_one_root_field() {
    let app = TestApp::with_demo().await;
    for doc in [
        "subscription { wishEvents(communityId: \"1\") { kind } incidentEvents { kind } }",
        "subscription { wishEvents(communityId: \"1\") { kind } __typename }",
        "subscription S { ...Two } fragment Two on Subscription { wishEvents(communityId: \"1\") { kind } a: wishEvents(communityId: \"2\") { kind } }",
    ] {
        let v = app.gql(None, doc, json!({})).await;
        assert!(v["data"].is_null(), "{doc}: {v}");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{doc}: {v}"
        );
    }
}

#[tokio::test]
async fn response_keys_follow_the_selection_order() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let body = json!({"query": "{ me { id roles { role } username displayName } }"}).to_string();
    let req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {staff}"))
        .body(axum::body::Body::from(body))
        .expect("request");
    let (_, bytes) = app.send(req).await;
    let raw = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(
        keys(&raw, &["data", "me"]),
        vec!["id", "roles", "username", "displayName"],
        "{raw}"
    );
}

#[tokio::test]
async fn developer_mistakes_have_their_own_codes_with_the_path_to_fix() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let report =
        "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { id } } }";
    let input = json!({"gridId": "1", "location": "汇通路 1 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯不亮"});
    // A wrong enum value: BAD_REQUEST naming `input.subject`, with the allowed values.
    let mut wrong = input.clone();
    wrong["subject"] = json!("FOO");
    let v = app.gql(Some(&grid), report, json!({"in": wrong})).await;
    let ext = &v["errors"][0]["extensions"];
    assert_eq!(ext["code"], "BAD_REQUEST", "{v}");
    assert_eq!(ext["field"], "input.subject", "{v}");
    let allowed = ext["allowedValues"].as_array().expect("allowed values");
    assert!(allowed.contains(&json!("SAFETY")), "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("SAFETY"),
        "{v}"
    );
    // A missing field inside the input variable: its path.
    let mut missing = input.clone();
    missing.as_object_mut().expect("object").remove("location");
    let v = app.gql(Some(&grid), report, json!({"in": missing})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "input.location",
        "{v}"
    );
    // A literal enum value in the document.
    let v = app
        .gql(None, "{ wishes(status: FOO) { totalCount } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "status", "{v}");
    assert!(
        v["errors"][0]["extensions"]["allowedValues"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("PUBLISHED")))
    );
    // An unknown field and broken text: validation and parse failures.
    let v = app.gql(None, "{ wishes { nope } }", json!({})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let v = app.gql(None, "{ wishes { ", json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    // The limits say themselves.
    let deep = format!(
        "{{ me {} id {} }}",
        "{ roles { community { grids { nodes ".repeat(4),
        "} } } }".repeat(4)
    );
    let v = app.gql(None, &deep, json!({})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["limit"], 12, "{v}");
    // What a person typed stays BAD_USER_INPUT, with the field.
    let mut typed = input.clone();
    typed["location"] = json!("");
    let v = app.gql(Some(&grid), report, json!({"in": typed})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], "location", "{v}");
}

#[tokio::test]
async fn every_reason_is_in_the_schema_and_the_readme_and_refusals_name_theirs() {
    let app = TestApp::with_demo().await;
    let v = app
        .gql(
            None,
            "{ __type(name: \"ErrorReason\") { enumValues { name description } } }",
            json!({}),
        )
        .await;
    let values = ok(&v)["__type"]["enumValues"]
        .as_array()
        .expect("values")
        .clone();
    assert!(values.len() > 50, "{v}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(n, _)| n))
        .filter(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    for value in &values {
        let name = value["name"].as_str().expect("name");
        assert!(
            table.contains(&name),
            "{name} is missing from README's reason table"
        );
        assert!(value["description"].as_str().is_some_and(|d| !d.is_empty()));
    }

    // The cases a wish card branches on.
    let member1 = app.login("member1").await;
    let student = app.login("student1").await;
    let claim = "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id } } }";
    let reason = |v: &Value| {
        v["errors"][0]["extensions"]["reason"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    ok(&app.gql(Some(&member1), claim, json!({"id": "1"})).await);
    assert_eq!(
        reason(&app.gql(Some(&member1), claim, json!({"id": "1"})).await),
        "WISH_ALREADY_YOURS"
    );
    assert_eq!(
        reason(&app.gql(Some(&student), claim, json!({"id": "1"})).await),
        "WISH_TAKEN"
    );
    // Every refusal of a sweep of wrong calls carries a reason.
    for (token, query) in [
        (None, "mutation { logoutEverywhere { at } }"),
        (
            Some(student.clone()),
            "mutation { createCommunity(input: {streetId: \"1\", name: \"越权社区\"}) { community { id } } }",
        ),
        (Some(member1.clone()), "{ wish(id: \"99999\") { id } }"),
        (
            Some(member1.clone()),
            "mutation { submitWish(input: {gridId: \"1\", title: \"\", description: \"x\", category: GOODS}) { wish { id } } }",
        ),
        (None, "{ wishes { nope } }"),
    ] {
        let v = app.gql(token.as_deref(), query, json!({})).await;
        assert!(!reason(&v).is_empty(), "{query}: {v}");
    }
}

#[tokio::test]
async fn a_field_the_viewer_may_not_read_leaves_its_parent_whole() {
    let app = TestApp::with_demo().await;
    let v = app
        .gql(
            None,
            "{ wishes(status: CLAIMED, first: 10) { nodes { id claimant { displayName roles { role } roleHistory { id } } } } }",
            json!({}),
        )
        .await;
    assert!(v["errors"].is_null(), "{v}");
    let nodes = ok(&v)["wishes"]["nodes"].as_array().expect("nodes").clone();
    assert!(!nodes.is_empty());
    for n in nodes {
        let claimant = &n["claimant"];
        assert!(
            claimant["displayName"]
                .as_str()
                .is_some_and(|d| d.contains('*')),
            "{n}"
        );
        assert_eq!(claimant["roles"], json!([]), "{n}");
        assert_eq!(claimant["roleHistory"], json!([]), "{n}");
    }
    // Those allowed still see them.
    let admin = app.login("admin").await;
    let v = app
        .gql(
            Some(&admin),
            "{ wishes(status: CLAIMED, first: 10) { nodes { claimant { roles { role } } } } }",
            json!({}),
        )
        .await;
    assert!(
        ok(&v)["wishes"]["nodes"][0]["claimant"]["roles"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
}

#[test]
fn the_documentation_points_at_nothing_outside_the_repository() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("docs").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|x| x == "md" || x == "graphql")
            {
                files.push(path);
            }
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            for bad in ["../", "/work/", "/root/", "file://"] {
                assert!(
                    !line.contains(bad),
                    "{}:{}: points outside the repository ({bad}): {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

#[tokio::test]
async fn the_claimant_sees_the_beneficiarys_name_and_reaches_the_grid_while_the_claim_is_active() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let admin = app.login("admin").await;
    let student = app.login("student1").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    // A resident's own wish: the beneficiary is her account.
    let v = app
        .gql(
            Some(&resident),
            "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"修一修窗户\", description: \"窗户关不严\", category: SERVICE}) { wish { id } } }",
            json!({"g": ht1}),
        )
        .await;
    let id = ok(&v)["submitWish"]["wish"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { reviewWish(input: {wishId: $id, decision: PUBLISH}) { wish { id } } }",
            json!({"id": id}),
        )
        .await);
    let card = "query($g: ID!) { contactCard(gridId: $g) { phonesVisible leader { name phone } } }";
    let read = "query($id: ID!) { wish(id: $id) { beneficiaryName beneficiaryPhone } }";
    // Before claiming: masked, and the card without whole phones (another community's member).
    let before = app.gql(Some(&student), read, json!({"id": id})).await;
    assert!(
        ok(&before)["wish"]["beneficiaryName"]
            .as_str()
            .is_some_and(|n| n.contains('*')),
        "{before}"
    );
    let v = app.gql(Some(&student), card, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["contactCard"]["phonesVisible"], false, "{v}");
    // Claimed: the full name (the phone stays masked), and the grid's card with phones.
    ok(&app
        .gql(
            Some(&student),
            "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id } } }",
            json!({"id": id}),
        )
        .await);
    let after = app.gql(Some(&student), read, json!({"id": id})).await;
    let w = &ok(&after)["wish"];
    assert_eq!(w["beneficiaryName"], "王秀英", "{after}");
    assert!(
        w["beneficiaryPhone"]
            .as_str()
            .is_none_or(|p| p.contains('*')),
        "{after}"
    );
    let v = app.gql(Some(&student), card, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["contactCard"]["phonesVisible"], true, "{v}");
    assert!(
        ok(&v)["contactCard"]["leader"]["phone"]
            .as_str()
            .is_some_and(|p| !p.contains('*')),
        "{v}"
    );
    // Released: both close again.
    ok(&app
        .gql(
            Some(&student),
            "mutation($id: ID!) { releaseWishClaim(input: {wishId: $id, reason: \"时间冲突\"}) { wish { id } } }",
            json!({"id": id}),
        )
        .await);
    let v = app.gql(Some(&student), card, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["contactCard"]["phonesVisible"], false, "{v}");
    let again = app.gql(Some(&student), read, json!({"id": id})).await;
    assert!(
        ok(&again)["wish"]["beneficiaryName"]
            .as_str()
            .is_some_and(|n| n.contains('*')),
        "{again}"
    );
}

#[tokio::test]
async fn labels_cover_every_value_and_documented_defaults_apply() {
    let app = TestApp::with_demo().await;
    for (name, _) in api::nodes::labels::labelled() {
        let v = app
            .gql(
                None,
                "query($t: String!) { __type(name: $t) { enumValues(includeDeprecated: true) { name } } enumLabels(type: $t) { value label } }",
                json!({"t": name}),
            )
            .await;
        let d = ok(&v);
        let values: Vec<&str> = d["__type"]["enumValues"]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        let labelled: Vec<&str> = d["enumLabels"]
            .as_array()
            .expect("labels")
            .iter()
            .filter_map(|e| e["value"].as_str())
            .collect();
        assert_eq!(values, labelled, "{name}");
        assert!(
            d["enumLabels"]
                .as_array()
                .expect("labels")
                .iter()
                .all(|l| l["label"].as_str().is_some_and(|s| !s.is_ascii()))
        );
    }
    let v = app
        .gql(None, "{ enumLabels(type: \"Nope\") { value } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // mySchedule without dates: today and four weeks on; hoursCertificate for the caller.
    let student = app.login("student1").await;
    let bare = app
        .gql(Some(&student), "{ mySchedule { id } }", json!({}))
        .await;
    let today = api::core::clock::today();
    let explicit = app
        .gql(
            Some(&student),
            "query($f: Date!, $t: Date!) { mySchedule(from: $f, to: $t) { id } }",
            json!({"f": today.to_string(), "t": (today + chrono::Duration::days(28)).to_string()}),
        )
        .await;
    assert_eq!(ok(&bare)["mySchedule"], ok(&explicit)["mySchedule"]);
    let me = app.user_id(&student).await;
    let q = "query($s: ID) { hoursCertificate(studentId: $s, from: \"2020-01-01\", to: \"2030-12-31\") { student { id } totalHours } }";
    let mine = app.gql(Some(&student), q, json!({})).await;
    assert_eq!(ok(&mine)["hoursCertificate"]["student"]["id"], me.as_str());
    let named = app.gql(Some(&student), q, json!({"s": me})).await;
    assert_eq!(
        ok(&mine)["hoursCertificate"]["totalHours"],
        ok(&named)["hoursCertificate"]["totalHours"]
    );
}

#[tokio::test]
async fn a_shift_and_a_slot_are_looked_up_by_id_with_the_callers_sign_up() {
    let app = TestApp::with_demo().await;
    let student = app.login("student1").await;
    let v = app
        .gql(
            Some(&student),
            "{ serviceSlots(openForMe: true, first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let slot_id = ok(&v)["serviceSlots"]["nodes"][0]["id"].clone();
    let v = app
        .gql(
            Some(&student),
            "query($l: ID!, $f: Date) { shifts(slotId: $l, from: $f, hasFreePlaces: true, first: 20) { nodes { id mySignup { id } } } }",
            json!({"l": slot_id, "f": (api::core::clock::today() + chrono::Duration::days(2)).to_string()}),
        )
        .await;
    // A shift the student has not signed up for yet (the demo signs them up for some, on
    // dates relative to its clock).
    let shift_id = ok(&v)["shifts"]["nodes"]
        .as_array()
        .expect("shifts")
        .iter()
        .find(|n| n["mySignup"].is_null())
        .map(|n| n["id"].clone())
        .expect("a shift without the student");
    let q = "query($s: ID!, $l: ID!) { shift(id: $s) { id mySignup { id status } } serviceSlot(id: $l) { id } }";
    let v = app
        .gql(Some(&student), q, json!({"s": shift_id, "l": slot_id}))
        .await;
    let d = ok(&v);
    assert_eq!(d["shift"]["id"], shift_id);
    assert_eq!(d["serviceSlot"]["id"], slot_id);
    assert!(d["shift"]["mySignup"].is_null(), "{v}");
    let signed = app
        .gql(
            Some(&student),
            "mutation($s: ID!) { signUpForShift(input: {shiftId: $s}) { signup { id } } }",
            json!({"s": shift_id}),
        )
        .await;
    ok(&signed);
    let v = app
        .gql(Some(&student), q, json!({"s": shift_id, "l": slot_id}))
        .await;
    assert_eq!(ok(&v)["shift"]["mySignup"]["status"], "SIGNED_UP", "{v}");
    // Nobody else sees it as theirs; anonymous gets null.
    let member = app.login("member1").await;
    let v = app
        .gql(Some(&member), q, json!({"s": shift_id, "l": slot_id}))
        .await;
    assert!(ok(&v)["shift"]["mySignup"].is_null());
    let v = app.gql(None, q, json!({"s": shift_id, "l": slot_id})).await;
    assert!(ok(&v)["shift"]["mySignup"].is_null());
    let v = app
        .gql(None, "{ shift(id: \"999999\") { id } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_person_finds_their_places_and_wishes_filter_by_several_statuses() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let v = app
        .gql(
            Some(&resident),
            "{ me { places { community { name } grid { name } } } }",
            json!({}),
        )
        .await;
    let places = ok(&v)["me"]["places"].as_array().expect("places").clone();
    assert!(
        places.iter().any(|p| p["community"]["name"] == "汇通社区"),
        "{v}"
    );
    let member = app.login("member1").await;
    let v = app
        .gql(
            Some(&member),
            "{ me { places { community { name } grid { name } } } }",
            json!({}),
        )
        .await;
    let places = ok(&v)["me"]["places"].as_array().expect("places").clone();
    assert!(
        places.iter().any(|p| p["grid"]["name"] == "汇通第一网格"),
        "{v}"
    );
    // Someone else's places are not shown to an outsider.
    let v = app
        .gql(None, "{ wishes(status: CLAIMED, first: 1) { nodes { claimant { places { community { name } } } } } }", json!({}))
        .await;
    assert_eq!(
        ok(&v)["wishes"]["nodes"][0]["claimant"]["places"],
        json!([])
    );
    // Several statuses at once: the union of each.
    let admin = app.login("admin").await;
    let count = |v: &Value| ok(v)["wishes"]["totalCount"].as_i64().expect("count");
    let q = "query($s: [WishStatus!]) { wishes(statuses: $s) { totalCount } }";
    let one = |s: &str| json!({"s": [s]});
    let published = count(&app.gql(Some(&admin), q, one("PUBLISHED")).await);
    let claimed = count(&app.gql(Some(&admin), q, one("CLAIMED")).await);
    let both = count(
        &app.gql(Some(&admin), q, json!({"s": ["PUBLISHED", "CLAIMED"]}))
            .await,
    );
    assert!(published > 0 && claimed > 0);
    assert_eq!(both, published + claimed);
    let v = app.gql(Some(&admin), q, json!({"s": []})).await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "statuses");
}

#[tokio::test]
async fn every_demo_account_the_banner_lists_logs_in() {
    let app = TestApp::with_demo().await;
    let listed = api::demo::accounts();
    assert!(listed.len() >= 19, "{}", listed.len());
    for a in listed {
        let token = app.login(a.username).await;
        let v = app
            .gql(Some(&token), "{ me { username } }", json!({}))
            .await;
        assert_eq!(ok(&v)["me"]["username"], a.username);
    }
}

const ACTIONS: [(&str, &str); 5] = [
    (
        "claim",
        "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id } } }",
    ),
    (
        "release",
        "mutation($id: ID!) { releaseWishClaim(input: {wishId: $id, reason: \"有事\"}) { wish { id } } }",
    ),
    (
        "fulfill",
        "mutation($id: ID!) { fulfillWish(input: {wishId: $id, note: \"已送到\"}) { wish { id } } }",
    ),
    (
        "confirm",
        "mutation($id: ID!) { confirmWish(input: {wishId: $id, rating: 5}) { wish { id } } }",
    ),
    (
        "cancel",
        "mutation($id: ID!) { cancelWish(input: {wishId: $id, reason: \"不需要了\"}) { wish { id } } }",
    ),
];

#[tokio::test]
async fn viewer_can_says_exactly_what_the_mutations_accept() {
    // Demo wishes: 1 published, 2 claimed by member1, 3 confirmed, 5 under review (resident1's).
    let viewers = ["member1", "student1", "resident1", "staff", "grid", "admin"];
    let wishes = ["1", "2", "3", "5"];
    let q =
        "query($id: ID!) { wish(id: $id) { viewerCan { claim release fulfill confirm cancel } } }";
    let app = TestApp::with_demo().await;
    let mut to_try = Vec::new();
    let mut refused = 0;
    for who in viewers {
        let token = app.login(who).await;
        for id in wishes {
            let v = app.gql(Some(&token), q, json!({"id": id})).await;
            // A wish the viewer may not see: nothing is open (every mutation refuses).
            let can = v["data"]["wish"]["viewerCan"].clone();
            for (action, mutation) in ACTIONS {
                if can[action] == true {
                    to_try.push((who, id, action, mutation));
                } else {
                    // Predicted refused: the mutation refuses (and so changes nothing).
                    let r = app.gql(Some(&token), mutation, json!({"id": id})).await;
                    assert!(
                        !r["errors"].is_null(),
                        "{who} {action} wish {id}: viewerCan said no, the mutation said yes: {r}"
                    );
                    refused += 1;
                }
            }
        }
    }
    // Anonymous: nothing.
    let v = app.gql(None, q, json!({"id": "1"})).await;
    assert_eq!(
        ok(&v)["wish"]["viewerCan"],
        json!({"claim": false, "release": false, "fulfill": false, "confirm": false, "cancel": false})
    );
    // Predicted accepted: each on a fresh demo, the mutation accepts.
    assert!(to_try.len() >= 6, "{to_try:?}");
    assert!(refused > 50);
    for (who, id, action, mutation) in to_try {
        let fresh = TestApp::with_demo().await;
        let token = fresh.login(who).await;
        let r = fresh.gql(Some(&token), mutation, json!({"id": id})).await;
        assert!(
            r["errors"].is_null(),
            "{who} {action} wish {id}: viewerCan said yes, the mutation refused: {r}"
        );
    }
}

/// Pages through a connection field `field` of `query` (which takes `$after`), `first` at a
/// time; the ids in order.
async fn page_through(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    field: &str,
    vars: Value,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    for _ in 0..400 {
        let mut v = vars.clone();
        v["after"] = after.clone();
        let r = app.gql(token, query, v).await;
        let conn = ok(&r)[field].clone();
        out.extend(conn["nodes"].as_array().expect("nodes").iter().cloned());
        if conn["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    panic!("no last page");
}

#[tokio::test]
async fn lists_take_an_order_and_page_through_it_whole() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    // Wishes by deadline: the nearest first, wishes without one last; two at a time gives the
    // same list as one page.
    let q = "query($o: WishOrder, $first: Int, $after: String) { wishes(orderBy: $o, first: $first, after: $after) { totalCount nodes { id deadline } pageInfo { hasNextPage endCursor } } }";
    let whole = page_through(
        &app,
        Some(&admin),
        q,
        "wishes",
        json!({"o": "DEADLINE", "first": 100}),
    )
    .await;
    let paged = page_through(
        &app,
        Some(&admin),
        q,
        "wishes",
        json!({"o": "DEADLINE", "first": 2}),
    )
    .await;
    assert_eq!(whole, paged);
    assert!(whole.len() >= 9, "{whole:?}");
    let deadlines: Vec<Option<&str>> = whole.iter().map(|n| n["deadline"].as_str()).collect();
    let mut sorted = deadlines.clone();
    sorted.sort_by_key(|d| (d.is_none(), *d));
    assert_eq!(deadlines, sorted);
    assert!(deadlines[0] < deadlines[deadlines.len() - 1] || deadlines.last() == Some(&None));
    // Oldest first is newest first reversed.
    let newest = page_through(
        &app,
        Some(&admin),
        q,
        "wishes",
        json!({"o": "NEWEST", "first": 3}),
    )
    .await;
    let mut oldest = page_through(
        &app,
        Some(&admin),
        q,
        "wishes",
        json!({"o": "OLDEST", "first": 3}),
    )
    .await;
    oldest.reverse();
    assert_eq!(newest, oldest);
    // A cursor belongs to its order.
    let r = app
        .gql(Some(&admin), q, json!({"o": "NEWEST", "first": 1}))
        .await;
    let cursor = ok(&r)["wishes"]["pageInfo"]["endCursor"].clone();
    let r = app
        .gql(
            Some(&admin),
            q,
            json!({"o": "DEADLINE", "first": 1, "after": cursor}),
        )
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );
    assert_eq!(r["errors"][0]["extensions"]["field"], "after", "{r}");

    // Incidents by deadline: the overdue one first, incidents without a deadline last.
    let q = "query($first: Int, $after: String) { incidents(orderBy: DEADLINE, first: $first, after: $after) { nodes { id deadline status } pageInfo { hasNextPage endCursor } } }";
    let whole = page_through(&app, Some(&admin), q, "incidents", json!({"first": 100})).await;
    let paged = page_through(&app, Some(&admin), q, "incidents", json!({"first": 3})).await;
    assert_eq!(whole, paged);
    let deadlines: Vec<Option<&str>> = whole.iter().map(|n| n["deadline"].as_str()).collect();
    let mut sorted = deadlines.clone();
    sorted.sort_by_key(|d| (d.is_none(), *d));
    assert_eq!(deadlines, sorted);
    assert_eq!(
        whole[0]["status"], "DISPATCHED",
        "the overdue one: {whole:?}"
    );
    assert!(deadlines.last().expect("some").is_none());

    // Upcoming open shifts, earliest first.
    let q = "query($first: Int, $after: String) { shifts(upcoming: true, hasFreePlaces: true, first: $first, after: $after) { totalCount nodes { id startsAt taken capacity } pageInfo { hasNextPage endCursor } } }";
    let whole = page_through(&app, None, q, "shifts", json!({"first": 100})).await;
    let paged = page_through(&app, None, q, "shifts", json!({"first": 9})).await;
    assert_eq!(whole, paged);
    assert!(!whole.is_empty());
    let now = api::core::clock::now();
    let starts: Vec<chrono::DateTime<chrono::Utc>> = whole
        .iter()
        .map(|n| {
            n["startsAt"]
                .as_str()
                .expect("start")
                .parse()
                .expect("time")
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert!(starts.iter().all(|s| *s > now));
    assert!(
        whole
            .iter()
            .all(|n| n["taken"].as_i64() < n["capacity"].as_i64())
    );
    // Every shift is either upcoming or not: the two lists add up.
    let all = app
        .gql(
            None,
            "{ shifts { totalCount } up: shifts(upcoming: true) { totalCount } }",
            json!({}),
        )
        .await;
    let d = ok(&all);
    assert!(
        d["up"]["totalCount"].as_i64() < d["shifts"]["totalCount"].as_i64(),
        "{d}"
    );
}

const INCIDENT_STEPS: &[(&str, &str)] = &[
    (
        "resolveOnSite",
        "mutation($id: ID!) { resolveIncidentOnSite(input: {incidentId: $id, note: \"已处理\"}) { incident { status } } }",
    ),
    (
        "whistle",
        "mutation($id: ID!) { whistleIncident(input: {incidentId: $id, note: \"需要街道协调\"}) { incident { status } } }",
    ),
    (
        "dispatch",
        "mutation($id: ID!, $org: ID!) { dispatchIncident(input: {incidentId: $id, organizationId: $org}) { incident { status } } }",
    ),
    (
        "redispatch",
        "mutation($id: ID!, $org: ID!) { dispatchIncident(input: {incidentId: $id, organizationId: $org}) { incident { status } } }",
    ),
    (
        "accept",
        "mutation($id: ID!) { acceptIncident(input: {incidentId: $id}) { incident { status } } }",
    ),
    (
        "handle",
        "mutation($id: ID!) { handleIncident(input: {incidentId: $id, resolution: \"已修复\"}) { incident { status resolution } } }",
    ),
    (
        "close",
        "mutation($id: ID!) { closeIncident(input: {incidentId: $id, rating: 5}) { incident { status } } }",
    ),
    (
        "reopen",
        "mutation($id: ID!) { reopenIncident(input: {incidentId: $id, note: \"仍未解决\"}) { incident { status } } }",
    ),
];

#[tokio::test]
async fn an_incidents_viewer_can_says_exactly_what_the_steps_accept() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let v = app
        .gql(
            Some(&admin),
            "{ incidents(first: 100) { nodes { id status organization { id } } } }",
            json!({}),
        )
        .await;
    let incidents: Vec<(String, String)> = ok(&v)["incidents"]["nodes"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|n| {
            (
                n["id"].as_str().expect("id").to_owned(),
                n["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect();
    let org = ok(&v)["incidents"]["nodes"]
        .as_array()
        .expect("incidents")
        .iter()
        .find_map(|n| n["organization"]["id"].as_str())
        .expect("a dispatched incident")
        .to_owned();
    assert!(incidents.len() >= 8);
    let q = "query($id: ID!) { incident(id: $id) { viewerCan { resolveOnSite whistle dispatch redispatch accept handle close reopen } } }";
    let mut to_try = Vec::new();
    let mut refused = 0;
    for who in [
        "grid",
        "staff",
        "rep-power",
        "rep-school",
        "resident1",
        "admin",
    ] {
        let token = app.login(who).await;
        for (id, status) in &incidents {
            let v = app.gql(Some(&token), q, json!({"id": id})).await;
            let can = v["data"]["incident"]["viewerCan"].clone();
            for (action, mutation) in INCIDENT_STEPS {
                // A dispatch and a redispatch are one mutation: it is taken when either is open.
                let either = matches!(*action, "dispatch" | "redispatch")
                    && (can["dispatch"] == true || can["redispatch"] == true);
                if either && can[action] != true {
                    continue;
                }
                if can[action] == true {
                    to_try.push((who, id.clone(), status.clone(), *action, *mutation));
                } else {
                    let r = app
                        .gql(Some(&token), mutation, json!({"id": id, "org": org}))
                        .await;
                    assert!(
                        !r["errors"].is_null(),
                        "{who} {action} incident {id} ({status}): viewerCan said no, the step was taken: {r}"
                    );
                    refused += 1;
                }
            }
        }
    }
    let v = app.gql(None, q, json!({"id": incidents[0].0})).await;
    assert!(v["data"]["incident"].is_null());
    // Every step is open to someone on some incident of the demo.
    for (action, _) in INCIDENT_STEPS {
        assert!(
            to_try.iter().any(|t| t.3 == *action),
            "no one may {action}: {to_try:?}"
        );
    }
    assert!(refused > 200, "{refused}");
    for (who, id, status, action, mutation) in to_try {
        let fresh = TestApp::with_demo().await;
        let token = fresh.login(who).await;
        let r = fresh
            .gql(Some(&token), mutation, json!({"id": id, "org": org}))
            .await;
        assert!(
            r["errors"].is_null(),
            "{who} {action} incident {id} ({status}): viewerCan said yes, the step was refused: {r}"
        );
    }
}

#[tokio::test]
async fn a_shifts_viewer_can_says_exactly_what_sign_up_and_cancel_accept() {
    let app = TestApp::with_demo().await;
    let q = "query($first: Int) { shifts(first: $first) { nodes { id startsAt mySignup { id } viewerCan { signUp cancel } } } }";
    let sign_up =
        "mutation($id: ID!) { signUpForShift(input: {shiftId: $id}) { signup { id status } } }";
    let cancel =
        "mutation($id: ID!) { cancelShiftSignup(input: {signupId: $id}) { signup { status } } }";
    let mut yes = (0, 0);
    let mut no = (0, 0);
    for who in ["student1", "member1", "staff"] {
        let token = app.login(who).await;
        let v = app.gql(Some(&token), q, json!({"first": 40})).await;
        for n in ok(&v)["shifts"]["nodes"].as_array().expect("shifts") {
            let id = n["id"].clone();
            let can = &n["viewerCan"];
            // A predicted refusal is tried here (it changes nothing); a predicted success on a
            // fresh demo, so that one sign-up does not change the next shift's answer.
            let fresh;
            let (on, t) = if can["signUp"] == true {
                fresh = TestApp::with_demo().await;
                let t = fresh.login(who).await;
                (&fresh, t)
            } else {
                (&app, token.clone())
            };
            let r = on.gql(Some(&t), sign_up, json!({"id": id})).await;
            assert_eq!(
                can["signUp"] == true,
                r["errors"].is_null(),
                "{who} signUp shift {id}: viewerCan {can}, the mutation: {r}"
            );
            if can["signUp"] == true {
                yes.0 += 1
            } else {
                no.0 += 1
            }
            if let Some(signup) = n["mySignup"]["id"].as_str() {
                let fresh;
                let (on, t) = if can["cancel"] == true {
                    fresh = TestApp::with_demo().await;
                    let t = fresh.login(who).await;
                    (&fresh, t)
                } else {
                    (&app, token.clone())
                };
                let r = on.gql(Some(&t), cancel, json!({"id": signup})).await;
                assert_eq!(
                    can["cancel"] == true,
                    r["errors"].is_null(),
                    "{who} cancel shift {id}: viewerCan {can}, the mutation: {r}"
                );
                if can["cancel"] == true {
                    yes.1 += 1
                } else {
                    no.1 += 1
                }
            } else {
                assert_eq!(can["cancel"], false);
            }
        }
    }
    assert!(yes.0 > 0 && no.0 > 0, "{yes:?} {no:?}");
    assert!(yes.1 > 0, "{yes:?} {no:?}");
    let v = app.gql(None, q, json!({"first": 3})).await;
    assert!(
        ok(&v)["shifts"]["nodes"]
            .as_array()
            .expect("shifts")
            .iter()
            .all(|n| n["viewerCan"] == json!({"signUp": false, "cancel": false}))
    );
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn descriptions_are_one_line_per_paragraph_and_the_docs_explain_the_domain_and_the_names() {
    let sdl = repo_file("schema.graphql");
    // Every paragraph of a description is one line (GraphiQL's docs panel wraps lines itself);
    // only list items, table rows and code keep lines of their own.
    let mut wrapped = Vec::new();
    for (i, chunk) in sdl.split("\"\"\"").enumerate() {
        if i % 2 == 0 {
            continue;
        }
        for paragraph in chunk.trim().split("\n\n") {
            let lines: Vec<&str> = paragraph
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let continued = lines.iter().skip(1).any(|l| {
                !(l.starts_with("- ")
                    || l.starts_with('|')
                    || l.starts_with("```")
                    || l.split_once(". ")
                        .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit())))
            });
            if continued {
                wrapped.push(paragraph.to_owned());
            }
        }
    }
    assert!(
        wrapped.is_empty(),
        "hard-wrapped descriptions: {wrapped:#?}"
    );

    // docs/domain.md names every role and every status of every status machine.
    let domain = repo_file("docs/domain.md");
    let enum_values = |name: &str| -> Vec<String> {
        let start = sdl
            .find(&format!("enum {name} {{"))
            .unwrap_or_else(|| panic!("{name}"));
        let body = &sdl[start..start + sdl[start..].find("\n}").expect("end")];
        body.split("\"\"\"")
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .flat_map(|(_, part)| {
                part.lines()
                    .skip(1)
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('@'))
                    .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty() && !v.contains('{'))
            .collect()
    };
    for e in [
        "Role",
        "WishStatus",
        "ClaimStatus",
        "RegistrationStatus",
        "AgreementStatus",
        "SignupStatus",
        "IncidentStatus",
        "GoodDeedStatus",
        "PassbookStatus",
    ] {
        let values = enum_values(e);
        assert!(values.len() >= 2, "{e}: {values:?}");
        for v in values {
            assert!(
                domain.contains(&format!("`{v}`")),
                "docs/domain.md does not explain {e}.{v}"
            );
        }
    }
    for must in [
        "extensions.code",
        "extensions.reason",
        "errorReasons",
        "viewerCan",
        "enumLabels",
    ] {
        assert!(domain.contains(must), "docs/domain.md: {must}");
    }

    // docs/naming.md lists every deprecated name of the schema with its replacement.
    let naming = repo_file("docs/naming.md");
    let mut deprecated = Vec::new();
    let mut owner = "";
    for line in sdl.lines() {
        if let Some(rest) = line
            .strip_prefix("type ")
            .or_else(|| line.strip_prefix("input "))
            .or_else(|| line.strip_prefix("enum "))
        {
            owner = rest.split_whitespace().next().unwrap_or("");
        }
        if line.contains("@deprecated") && !line.starts_with("directive") {
            let name = line
                .trim()
                .split(['(', ':', ' '])
                .next()
                .unwrap_or("")
                .to_owned();
            deprecated.push((owner.to_owned(), name));
        }
    }
    assert!(deprecated.len() >= 15, "{deprecated:?}");
    for (owner, name) in &deprecated {
        let listed = naming.contains(&format!("`{owner}.{name}"))
            || naming.contains(&format!(".{name}`"))
            || (owner == "Query" && naming.contains(&format!("({name})")));
        assert!(
            listed,
            "docs/naming.md does not list the deprecated {owner}.{name}"
        );
    }
    let readme = repo_file("README.md");
    assert!(readme.contains("docs/domain.md") && readme.contains("docs/naming.md"));

    // Each screen's mutations are among the operation documents.
    let mut operations = String::new();
    for entry in
        std::fs::read_dir(format!("{}/docs/operations", env!("CARGO_MANIFEST_DIR"))).expect("dir")
    {
        operations.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("read"));
    }
    for m in [
        "claimWish(",
        "logPatrol(",
        "reportIncident(",
        "signUpForSeries(",
        "hoursCertificate(",
    ] {
        assert!(operations.contains(m), "docs/operations has no {m}");
    }
}

#[tokio::test]
async fn the_demo_has_a_wish_in_every_status() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let v = app
        .gql(
            None,
            "{ __type(name: \"WishStatus\") { enumValues { name } } }",
            json!({}),
        )
        .await;
    for s in ok(&v)["__type"]["enumValues"].as_array().expect("values") {
        let status = s["name"].as_str().expect("name");
        let v = app
            .gql(
                Some(&admin),
                "query($s: WishStatus) { wishes(status: $s) { totalCount nodes { status title } } }",
                json!({"s": status}),
            )
            .await;
        let d = ok(&v);
        assert!(
            d["wishes"]["totalCount"].as_i64() >= Some(1),
            "no {status} wish in the demo"
        );
        assert!(
            d["wishes"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .all(|n| n["status"] == status)
        );
    }
}

#[tokio::test]
async fn renamed_fields_answer_under_both_names_and_the_weekday_is_an_enum() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let create = "mutation($in: CreateServiceSlotInput!) { createServiceSlot(input: $in) { slot { id dayOfWeek weekday startDate endDate validFrom validTo } } }";
    let base = json!({"communityId": "1", "title": "周三助老", "startTime": "14:00", "endTime": "16:00", "capacity": 2});
    let with = |extra: Value| {
        let mut v = base.clone();
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        json!({"in": v})
    };
    let next_year = api::core::clock::today().year() + 1;
    let (from, to) = (format!("{next_year}-03-01"), format!("{next_year}-03-31"));
    let new = app
        .gql(
            Some(&staff),
            create,
            with(json!({"dayOfWeek": "WEDNESDAY", "startDate": from, "endDate": to})),
        )
        .await;
    let slot = &ok(&new)["createServiceSlot"]["slot"];
    assert_eq!(slot["dayOfWeek"], "WEDNESDAY");
    assert_eq!(slot["weekday"], 3);
    assert_eq!(slot["startDate"], from.as_str());
    assert_eq!(slot["validFrom"], from.as_str());
    assert_eq!(slot["endDate"], slot["validTo"]);
    let old = app
        .gql(
            Some(&staff),
            create,
            with(json!({"weekday": 5, "validFrom": from, "validTo": to})),
        )
        .await;
    assert_eq!(ok(&old)["createServiceSlot"]["slot"]["dayOfWeek"], "FRIDAY");
    // Both names must agree; neither is a missing field.
    let both = app
        .gql(
            Some(&staff),
            create,
            with(json!({"weekday": 5, "dayOfWeek": "MONDAY", "startDate": from, "endDate": to})),
        )
        .await;
    assert_eq!(
        both["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{both}"
    );
    assert_eq!(
        both["errors"][0]["extensions"]["field"], "dayOfWeek",
        "{both}"
    );
    let neither = app
        .gql(
            Some(&staff),
            create,
            with(json!({"dayOfWeek": "MONDAY", "endDate": to})),
        )
        .await;
    assert_eq!(
        neither["errors"][0]["extensions"]["field"], "startDate",
        "{neither}"
    );
    // The filter takes the enum; the number still works.
    let v = app
        .gql(None, "{ a: serviceSlots(dayOfWeek: WEDNESDAY) { nodes { id dayOfWeek } } b: serviceSlots(weekday: 3) { nodes { id } } }", json!({}))
        .await;
    let d = ok(&v);
    let ids = |k: &str| {
        d[k]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("a"), ids("b"));
    assert!(!ids("a").is_empty());
    assert!(
        d["a"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["dayOfWeek"] == "WEDNESDAY")
    );
    // A wish claim names its claimant and its wish (the old names read the same).
    let member = app.login("member1").await;
    let v = app
        .gql(
            Some(&member),
            "{ wish(id: \"2\") { claims { claimant { id } member { id } wish { id } wishId } } }",
            json!({}),
        )
        .await;
    let claim = &ok(&v)["wish"]["claims"][0];
    assert_eq!(claim["claimant"], claim["member"]);
    assert_eq!(claim["wish"]["id"], "2");
    assert_eq!(claim["wishId"], "2");
    // A wish approved in review is published (APPROVE; the old PUBLISH still works).
    let v = app
        .gql(Some(&staff), "mutation { reviewWish(input: {wishId: \"5\", decision: APPROVE}) { wish { status } } }", json!({}))
        .await;
    assert_eq!(ok(&v)["reviewWish"]["wish"]["status"], "PUBLISHED");
    // The contact card shows people as User does.
    let v = app
        .gql(
            Some(&staff),
            "{ contactCard(gridId: \"1\") { leader { displayName avatarUrl name photoUrl } } }",
            json!({}),
        )
        .await;
    let leader = &ok(&v)["contactCard"]["leader"];
    assert_eq!(leader["displayName"], leader["name"]);
    assert_eq!(leader["avatarUrl"], leader["photoUrl"]);
    assert!(
        leader["displayName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
}

#[test]
fn the_readmes_error_section_names_only_real_codes_and_reasons() {
    let readme = repo_file("README.md");
    let sdl = repo_file("schema.graphql");
    let errors_rs = repo_file("api/src/core/error.rs");
    let start = readme
        .find("### Errors: codes and reasons")
        .expect("section");
    let end = start
        + readme[start..]
            .find("### Error reasons")
            .expect("next section");
    let section = &readme[start..end];
    let reasons = &sdl[sdl.find("enum ErrorReason {").expect("enum")..];
    let reasons = &reasons[..reasons.find("\n}").expect("end")];
    let mut codes = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let code = row[3..].split('`').next().expect("code");
        assert!(
            errors_rs.contains(&format!("\"{code}\"")) || code == "PERSISTED_QUERY_NOT_FOUND",
            "{code} is no error code"
        );
        codes.push(code.to_owned());
    }
    assert!(codes.len() >= 13, "{codes:?}");
    for token in section.split('`').skip(1).step_by(2) {
        let screaming =
            token.len() > 3 && token.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if screaming && !codes.iter().any(|c| c == token) {
            assert!(
                reasons.lines().any(|l| l.trim() == token),
                "{token} is neither a code of the table nor an ErrorReason"
            );
        }
    }
}
