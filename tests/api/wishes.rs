use api::account::rules::RoleGrant;
use entity::{role_assignment::Role, wish, wish::WishCategory, wish::WishStatus};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

const WISH: &str = "query($id: ID!) { wish(id: $id) { id status title beneficiaryName beneficiaryNameVisible beneficiaryPhone beneficiaryAddress beneficiary { username } submittedBy { username } claimant { username } claims { status member { username } releaseReason } rating } }";
const SUBMIT: &str = "mutation($g: ID!, $t: String!) { submitWish(input: {gridId: $g, title: $t, description: \"想要一个暖水袋\", category: GOODS, estimatedValue: 30, beneficiaryAddress: \"汇通路 8 号\"}) { wish { id status beneficiaryName } } }";
const REVIEW: &str = "mutation($id: ID!) { reviewWish(input: {wishId: $id, decision: PUBLISH}) { wish { status } } }";
const CLAIM: &str = "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { status claimant { username } } } }";
const RELEASE: &str = "mutation($id: ID!) { releaseWishClaim(input: {wishId: $id, reason: \"临时出差\"}) { wish { status claimant { username } } } }";
const FULFIL: &str = "mutation($id: ID!) { fulfillWish(input: {wishId: $id, note: \"已送到\", photoUrls: [\"https://img.example.cn/a.jpg\"]}) { wish { status photoUrls } } }";
const CONFIRM: &str = "mutation($id: ID!) { confirmWish(input: {wishId: $id, rating: 5, feedback: \"谢谢\"}) { wish { status rating } } }";
const CANCEL: &str = "mutation($id: ID!) { cancelWish(input: {wishId: $id, reason: \"不需要了\"}) { wish { status } } }";
const BALANCE: &str = "{ myPassbook { balance entries { nodes { amount kind source sourceId memo balanceAfter } } } }";

fn member(community: Option<i64>) -> Vec<RoleGrant> {
    vec![RoleGrant {
        role: Role::PartyMember,
        community_id: community,
        grid_id: None,
        organization_id: None,
    }]
}

async fn published_wish(app: &TestApp, title: &str) -> String {
    let resident = app.login("resident1").await;
    let staff = app.login("staff").await;
    let g = app.grid_id("汇通第一网格").await;
    let v = app
        .gql(Some(&resident), SUBMIT, json!({"g": g, "t": title}))
        .await;
    let id = ok(&v)["submitWish"]["wish"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app.gql(Some(&staff), REVIEW, json!({"id": id})).await);
    id
}

#[tokio::test]
async fn fifty_concurrent_claims_have_exactly_one_winner() {
    let app = TestApp::with_demo().await;
    let id = published_wish(&app, "抢单测试").await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(
            app.quick_user(&format!("claimer{i}"), &member(None))
                .await
                .1,
        );
    }
    let results = futures::future::join_all(
        tokens
            .iter()
            .map(|t| app.gql(Some(t), CLAIM, json!({"id": id}))),
    )
    .await;
    let wins = results.iter().filter(|v| v.get("errors").is_none()).count();
    let conflicts = results
        .iter()
        .filter(|v| error_code(v) == Some("CONFLICT"))
        .count();
    assert_eq!((wins, conflicts), (1, 49), "{results:?}");
    let staff = app.login("staff").await;
    let v = app.gql(Some(&staff), WISH, json!({"id": id})).await;
    let w = &ok(&v)["wish"];
    assert_eq!(w["status"], "CLAIMED");
    let claims = w["claims"].as_array().expect("claims");
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["status"], "ACTIVE");
    assert_eq!(claims[0]["member"]["username"], w["claimant"]["username"]);
}

#[tokio::test]
async fn the_full_path_works_and_every_out_of_order_step_is_an_invalid_state() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let staff = app.login("staff").await;
    let member1 = app.login("member1").await;
    let member2 = app.login("member2").await;
    let g = app.grid_id("汇通第一网格").await;
    let v = app
        .gql(Some(&resident), SUBMIT, json!({"g": g, "t": "暖水袋"}))
        .await;
    let id = ok(&v)["submitWish"]["wish"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let id = json!({"id": id});
    // Not yet published: no claim, no fulfilment, no confirmation.
    assert_code(
        &app.gql(Some(&member1), CLAIM, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&resident), CONFIRM, id.clone()).await,
        "INVALID_STATE",
    );

    assert_eq!(
        ok(&app.gql(Some(&staff), REVIEW, id.clone()).await)["reviewWish"]["wish"]["status"],
        "PUBLISHED"
    );
    assert_code(
        &app.gql(Some(&staff), REVIEW, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&member1), FULFIL, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&member1), RELEASE, id.clone()).await,
        "INVALID_STATE",
    );

    let v = app.gql(Some(&member1), CLAIM, id.clone()).await;
    assert_eq!(
        ok(&v)["claimWish"]["wish"]["claimant"]["username"],
        "member1"
    );
    assert_code(
        &app.gql(Some(&member2), CLAIM, id.clone()).await,
        "CONFLICT",
    );
    assert_code(
        &app.gql(Some(&resident), CONFIRM, id.clone()).await,
        "INVALID_STATE",
    );
    let v = app.gql(Some(&member1), RELEASE, id.clone()).await;
    assert_eq!(ok(&v)["releaseWishClaim"]["wish"]["status"], "PUBLISHED");
    assert!(ok(&v)["releaseWishClaim"]["wish"]["claimant"].is_null());

    let v = app.gql(Some(&member2), CLAIM, id.clone()).await;
    assert_eq!(
        ok(&v)["claimWish"]["wish"]["claimant"]["username"],
        "member2"
    );
    // Only the claimant fulfils.
    assert_code(
        &app.gql(Some(&member1), FULFIL, id.clone()).await,
        "FORBIDDEN",
    );
    let v = app.gql(Some(&member2), FULFIL, id.clone()).await;
    assert_eq!(ok(&v)["fulfillWish"]["wish"]["status"], "FULFILLED");
    assert_eq!(
        ok(&v)["fulfillWish"]["wish"]["photoUrls"][0],
        "https://img.example.cn/a.jpg"
    );
    assert_code(
        &app.gql(Some(&member2), FULFIL, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&member2), RELEASE, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&resident), CANCEL, id.clone()).await,
        "INVALID_STATE",
    );

    let before = app.gql(Some(&member2), BALANCE, json!({})).await;
    let before = ok(&before)["myPassbook"]["balance"]
        .as_i64()
        .expect("balance");
    let v = app.gql(Some(&resident), CONFIRM, id.clone()).await;
    assert_eq!(ok(&v)["confirmWish"]["wish"]["status"], "CONFIRMED");
    assert_eq!(ok(&v)["confirmWish"]["wish"]["rating"], 5);
    assert_code(
        &app.gql(Some(&resident), CONFIRM, id.clone()).await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(Some(&member1), CLAIM, id.clone()).await,
        "INVALID_STATE",
    );
    let after = app.gql(Some(&member2), BALANCE, json!({})).await;
    let book = &ok(&after)["myPassbook"];
    // GOODS wishes earn 10 points by default, deposited once.
    assert_eq!(book["balance"].as_i64(), Some(before + 10));
    let entries = book["entries"]["nodes"].as_array().expect("entries");
    let wish_entries: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["source"] == "WISH"
                && e["sourceId"] == id["id"]
                && e["memo"].as_str().is_some_and(|m| !m.contains("暖水袋"))
        })
        .collect();
    assert_eq!(wish_entries.len(), 1);
    assert_eq!(entries[0]["balanceAfter"].as_i64(), Some(before + 10));

    // The history keeps the released claim.
    let v = app.gql(Some(&staff), WISH, id.clone()).await;
    let claims = ok(&v)["wish"]["claims"].as_array().expect("claims").clone();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["status"], "RELEASED");
    assert_eq!(claims[0]["releaseReason"], "临时出差");
    assert_eq!(claims[1]["status"], "COMPLETED");
}

#[tokio::test]
async fn claim_rules_members_only_not_ones_own_and_a_cap_on_active_claims() {
    let app = TestApp::with_demo().await;
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let id = published_wish(&app, "规则测试").await;
    // A resident is no party member.
    let resident = app.login("resident1").await;
    assert_code(
        &app.gql(Some(&resident), CLAIM, json!({"id": id})).await,
        "FORBIDDEN",
    );
    // A member who is also the beneficiary cannot claim their own wish.
    let mut grants = member(Some(community));
    grants.push(RoleGrant {
        role: Role::Resident,
        community_id: Some(community),
        grid_id: None,
        organization_id: None,
    });
    let (_, both) = app.quick_user("resident-member", &grants).await;
    let g = app.grid_id("汇通第一网格").await;
    let v = app
        .gql(Some(&both), SUBMIT, json!({"g": g, "t": "自己的心愿"}))
        .await;
    let own = ok(&v)["submitWish"]["wish"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let staff = app.login("staff").await;
    ok(&app.gql(Some(&staff), REVIEW, json!({"id": own})).await);
    assert_code(
        &app.gql(Some(&both), CLAIM, json!({"id": own})).await,
        "FORBIDDEN",
    );
    // The database refuses it too, should a bug let it through the service.
    let raw = app
        .db()
        .execute_unprepared(&format!(
            "UPDATE wishes SET claimant_id = submitted_by, status = 'CLAIMED' WHERE id = {own}"
        ))
        .await;
    assert!(
        raw.is_err(),
        "a self-claim written directly must be refused"
    );
    let v = app
        .gql(
            Some(&staff),
            "query($id: ID!) { wish(id: $id) { status claimant { id } } }",
            json!({"id": own}),
        )
        .await;
    assert_eq!(ok(&v)["wish"]["status"], "PUBLISHED");
    assert!(ok(&v)["wish"]["claimant"].is_null());
    // At most three active claims.
    let (_, busy) = app.quick_user("busy-member", &member(None)).await;
    for i in 0..3 {
        let w = published_wish(&app, &format!("心愿{i}")).await;
        ok(&app.gql(Some(&busy), CLAIM, json!({"id": w})).await);
    }
    assert_code(
        &app.gql(Some(&busy), CLAIM, json!({"id": id})).await,
        "INVALID_STATE",
    );
    // Cancelling frees nothing for the claimant but ends the claim.
    let v = app.gql(Some(&resident), CANCEL, json!({"id": id})).await;
    assert_eq!(ok(&v)["cancelWish"]["wish"]["status"], "CANCELLED");
    // Bad input is refused with a field.
    let v = app
        .gql(Some(&resident), "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"贵重\", description: \"x\", category: GOODS, estimatedValue: 5000}) { wish { id } } }", json!({"g": g}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "estimatedValue");
}

#[tokio::test]
async fn a_wish_past_its_deadline_reads_expired_and_cannot_be_claimed() {
    let app = TestApp::with_demo().await;
    let id = published_wish(&app, "过期测试").await;
    let row = wish::Entity::find_by_id(id.parse::<i64>().expect("id"))
        .one(app.db())
        .await
        .expect("db")
        .expect("wish");
    let mut am: wish::ActiveModel = row.into();
    am.deadline = Set(Some(
        api::core::validate::today() - chrono::Duration::days(1),
    ));
    am.update(app.db()).await.expect("update");
    let v = app.gql(None, WISH, json!({"id": id})).await;
    assert_eq!(ok(&v)["wish"]["status"], "EXPIRED");
    let member1 = app.login("member1").await;
    assert_code(
        &app.gql(Some(&member1), CLAIM, json!({"id": id})).await,
        "INVALID_STATE",
    );
    let v = app.gql(None, "{ wishes(status: EXPIRED) { totalCount nodes { id } } p: wishes(status: PUBLISHED) { nodes { id } } }", json!({})).await;
    let d = ok(&v);
    // This one and the demo's own expired wish (文宗社区).
    assert_eq!(d["wishes"]["totalCount"], 2);
    assert!(
        d["wishes"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["id"] == id.as_str())
    );
    assert!(
        !d["p"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["id"] == id.as_str())
    );
}

#[tokio::test]
async fn the_beneficiary_is_shown_by_role() {
    let app = TestApp::with_demo().await;
    // Demo wish 2: for 张桂兰 (no app), submitted by the grid leader, claimed by member1.
    let id = json!({"id": "2"});
    let anon = app.gql(None, WISH, id.clone()).await;
    let w = &ok(&anon)["wish"];
    assert_eq!(w["beneficiaryName"], "张**");
    assert_eq!(w["beneficiaryNameVisible"], false);
    assert!(
        w["beneficiaryPhone"].is_null()
            && w["beneficiaryAddress"].is_null()
            && w["submittedBy"].is_null()
    );
    assert_eq!(w["claimant"]["username"], "member1");
    for (who, name, phone) in [
        ("member2", "张**", false),
        ("resident1", "张**", false),
        ("wz-staff", "张**", false),
        ("member1", "张桂兰", false),
        ("grid", "张桂兰", true),
        ("ht1-worker", "张桂兰", true),
        ("staff", "张桂兰", true),
        ("admin", "张桂兰", true),
    ] {
        let t = app.login(who).await;
        let v = app.gql(Some(&t), WISH, id.clone()).await;
        let w = &ok(&v)["wish"];
        assert_eq!(w["beneficiaryName"], name, "{who}");
        assert_eq!(w["beneficiaryPhone"].is_string(), phone, "{who}: {w}");
        assert_eq!(w["beneficiaryAddress"].is_string(), phone, "{who}: {w}");
    }
    // Demo wish 1 is resident1's own: she sees it whole, others masked.
    let t = app.login("resident1").await;
    let v = app.gql(Some(&t), WISH, json!({"id": "1"})).await;
    assert_eq!(ok(&v)["wish"]["beneficiaryName"], "王秀英");
    assert_eq!(ok(&v)["wish"]["beneficiary"]["username"], "resident1");
    let v = app.gql(None, WISH, json!({"id": "1"})).await;
    assert_eq!(ok(&v)["wish"]["beneficiaryName"], "王**");
    assert!(ok(&v)["wish"]["beneficiary"].is_null());
    // The list masks the same way; a wish pending review is not public.
    let v = app
        .gql(
            None,
            "{ wishes(first: 100) { totalCount nodes { id beneficiaryName status } } }",
            json!({}),
        )
        .await;
    let nodes = ok(&v)["wishes"]["nodes"].as_array().expect("nodes").clone();
    assert!(
        nodes.iter().all(|n| n["beneficiaryName"]
            .as_str()
            .is_some_and(|s| s.contains('*'))),
        "{nodes:?}"
    );
    assert!(nodes.iter().all(|n| n["status"] != "PENDING_REVIEW"));
    assert_code(&app.gql(None, WISH, json!({"id": "5"})).await, "NOT_FOUND");
    let v = app
        .gql(
            Some(&t),
            "{ wishes(submittedByMe: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["wishes"]["totalCount"], 4);
}

#[tokio::test]
async fn listing_100_wishes_runs_as_many_statements_as_listing_10() {
    let app = TestApp::with_demo().await;
    let ht1: i64 = app.grid_id("汇通第一网格").await.parse().expect("id");
    let ht2: i64 = app.grid_id("汇通第二网格").await.parse().expect("id");
    let huitong: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let mut claimants = Vec::new();
    for i in 0..5 {
        claimants.push(app.quick_user(&format!("m{i}"), &member(None)).await.0);
    }
    let now = api::core::clock::now();
    for i in 0..110 {
        let claimed = i % 3 == 0;
        wish::ActiveModel {
            community_id: Set(huitong),
            grid_id: Set(if i % 2 == 0 { ht1 } else { ht2 }),
            title: Set(format!("批量心愿{i}")),
            description: Set("x".into()),
            category: Set(WishCategory::Service),
            submitted_by: Set(3),
            beneficiary_user_id: Set(if i % 4 == 0 { Some(14) } else { None }),
            beneficiary_name: Set(format!("居民{i}")),
            estimated_value: Set(0),
            status: Set(if claimed {
                WishStatus::Claimed
            } else {
                WishStatus::Published
            }),
            claimant_id: Set(claimed.then(|| claimants[i % 5])),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("wish");
    }
    let staff = app.login("staff").await;
    let q = "query($n: Int!) { wishes(first: $n) { totalCount nodes { title status beneficiaryName beneficiaryPhone beneficiary { displayName } grid { name leader { displayName } } community { name } claimant { displayName phone } claims { status } } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let (count, v) = app.statements_of(Some(&staff), q, json!({"n": n})).await;
        assert_eq!(ok(&v)["wishes"]["nodes"].as_array().map(Vec::len), Some(n));
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 wishes: {counts:?}"
    );
}

/// The wish wall joins its relations into one statement: the page a front end shows costs
/// the page and, on SQLite, the viewer (2 statements; 3 when unmasked personal data shown to ADMIN,
/// staff or a grid worker is written to the access log), and every joined value is what the same wish
/// shows when read alone (where nothing is joined), for every kind of viewer.
#[tokio::test]
async fn the_wish_wall_is_two_statements_and_agrees_with_each_wish_read_alone() {
    let app = TestApp::with_demo().await;
    const FIELDS: &str = "id title status beneficiaryName beneficiaryNameVisible beneficiaryPhone beneficiaryAddress grid { name } community { name } beneficiary { displayName phone } claimant { displayName phone } submittedBy { displayName phone }";
    let page = format!("{{ wishes(first: 100) {{ nodes {{ {FIELDS} }} }} }}");
    let one = format!("query($id: ID!) {{ wish(id: $id) {{ {FIELDS} }} }}");
    let mut viewers = vec![("anonymous", None)];
    for who in ["member1", "staff", "grid", "resident1", "admin"] {
        viewers.push((who, Some(app.login(who).await)));
    }
    let mut claimed_seen = false;
    for (who, token) in &viewers {
        let logged = || async {
            use sea_orm::{EntityTrait, PaginatorTrait};
            entity::personal_data_access::Entity::find()
                .count(app.db())
                .await
                .expect("count")
        };
        let log_before = logged().await;
        let (count, v) = app.statements_of(token.as_deref(), &page, json!({})).await;
        // Unmasked phones and addresses shown to ADMIN, staff or a grid worker are written to
        // the access log: one more statement, for those viewers only.
        let wrote_log = logged().await > log_before;
        assert_eq!(
            wrote_log,
            ["staff", "grid", "admin"].contains(who),
            "{who}: access log"
        );
        // The page, and the viewer's row unless the server listens for changed users
        // (PostgreSQL), which lets it serve a known viewer without reading it.
        let reads_viewer = token.is_some() && !app.state.viewers.listening();
        let expected = 1 + u64::from(reads_viewer) + u64::from(wrote_log);
        assert_eq!(count, expected, "{who}: statements for the wish wall");
        let nodes = ok(&v)["wishes"]["nodes"].as_array().expect("nodes").clone();
        assert!(nodes.len() >= 3, "{who}: {}", nodes.len());
        for n in &nodes {
            claimed_seen |= !n["claimant"].is_null();
            let alone = app
                .gql(token.as_deref(), &one, json!({"id": n["id"]}))
                .await;
            assert_eq!(
                &ok(&alone)["wish"],
                n,
                "{who}: wish {} alone vs on the wall",
                n["id"]
            );
        }
    }
    assert!(claimed_seen, "the demo has claimed wishes on the wall");
}

/// A claim and its release stay within the write budget of 6 statements each (the viewer
/// included), and a refused claim still says why.
#[tokio::test]
async fn claim_and_release_run_at_most_six_statements_each() {
    const CLAIM_ONLY: &str =
        "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id status } } }";
    const RELEASE_ONLY: &str = "mutation($id: ID!) { releaseWishClaim(input: {wishId: $id, reason: \"基准\"}) { wish { id status } } }";
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    let v = app
        .gql(
            None,
            "{ wishes(status: PUBLISHED, first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let id = ok(&v)["wishes"]["nodes"][0]["id"].clone();
    // The member's viewer is cached from here on, as on a server in use.
    ok(&app.gql(Some(&member), "{ me { id } }", json!({})).await);
    let before = app.statements();
    let v = app.gql(Some(&member), CLAIM_ONLY, json!({"id": id})).await;
    let claim = app.statements() - before;
    assert_eq!(ok(&v)["claimWish"]["wish"]["status"], "CLAIMED");
    // Six, and two for the outbox: the messages to the submitter and beneficiary, and their
    // deliveries (one statement each, whatever the number of recipients).
    assert!(claim <= 8, "claimWish ran {claim} statements");
    // Claiming it again: the refusal names the reason.
    let again = app.gql(Some(&member), CLAIM_ONLY, json!({"id": id})).await;
    assert_code(&again, "CONFLICT");
    let before = app.statements();
    let v = app
        .gql(Some(&member), RELEASE_ONLY, json!({"id": id}))
        .await;
    let release = app.statements() - before;
    assert_eq!(ok(&v)["releaseWishClaim"]["wish"]["status"], "PUBLISHED");
    assert!(release <= 6, "releaseWishClaim ran {release} statements");
}

/// The wish wall keeps each joined person's roles per server by the person's `auth_stamp`:
/// a claimant who takes up a public office is named in full on the very next wall (once the
/// change is heard of), not masked from a stale copy.
#[tokio::test]
async fn the_wall_follows_a_claimants_new_office() {
    let app = TestApp::with_demo().await;
    let wall = "{ wishes(first: 100) { nodes { id claimant { id displayName } } } }";
    let claimant_of = |v: &Value| -> Option<(String, String)> {
        ok(v)["wishes"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| !n["claimant"].is_null())
            .map(|n| {
                (
                    n["claimant"]["id"].as_str().expect("id").to_owned(),
                    n["claimant"]["displayName"]
                        .as_str()
                        .expect("name")
                        .to_owned(),
                )
            })
    };
    // Twice: the second wall takes the roles from the server's copy.
    app.gql(None, wall, json!({})).await;
    let (id, masked) = claimant_of(&app.gql(None, wall, json!({})).await).expect("a claim");
    assert!(masked.contains('*'), "an anonymous caller sees {masked}");
    let grid: i64 = app.grid_id("汇通第一网格").await.parse().expect("id");
    app.grant_directly(id.parse().expect("id"), Role::GridWorker, Some(grid))
        .await;
    let v = app.gql(None, wall, json!({})).await;
    let (same, named) = claimant_of(&v).expect("a claim");
    assert_eq!(same, id);
    assert!(
        !named.contains('*'),
        "a grid worker is named in full: {named}"
    );
}
