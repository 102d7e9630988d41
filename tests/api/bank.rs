use api::{account::rules::RoleGrant, bank::rules as bank};
use entity::{ledger_entry, passbook, redemption, reward, role_assignment::Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

const REDEEM: &str = "mutation($r: ID!, $q: Int!, $k: String) { redeemReward(input: {rewardId: $r, quantity: $q, idempotencyKey: $k}) { redemption { id quantity points entry { id amount balanceAfter kind } reward { name stock } } } }";
const REVIEW: &str = "mutation($d: ID!, $k: String) { reviewGoodDeed(input: {goodDeedId: $d, decision: APPROVE, idempotencyKey: $k}) { goodDeed { id status points } } }";
const REVERSE: &str = "mutation($e: ID!, $k: String) { reverseLedgerEntry(input: {entryId: $e, reason: \"录入错误\", idempotencyKey: $k}) { reversal { id amount kind balanceAfter reverses { id } } } }";
const MY: &str = "{ myPassbook { id balance entries(first: 100) { totalCount nodes { id amount kind balanceAfter } } } }";

fn resident(community: i64) -> Vec<RoleGrant> {
    vec![RoleGrant {
        role: Role::Resident,
        community_id: Some(community),
        grid_id: None,
        organization_id: None,
    }]
}

/// A holder with a passbook in 汇通社区 and `points` deposited through an approved good deed.
async fn holder(app: &TestApp, name: &str, points: i32) -> (i64, String, i64) {
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let (uid, token) = app.quick_user(name, &resident(community)).await;
    let admin = api::auth::load_auth_user(app.db(), 1).await.expect("admin");
    let book = bank::open_passbook(app.db(), &admin, uid, community, None)
        .await
        .expect("open");
    if points > 0 {
        let deed = bank::report_good_deed(
            app.db(),
            &admin,
            bank::NewGoodDeed {
                holder_id: Some(uid),
                category_id: 1,
                description: "志愿服务".into(),
                occurred_on: api::core::validate::today(),
            },
        )
        .await
        .expect("deed");
        bank::review_good_deed(
            app.db(),
            &app.state.events,
            &admin,
            deed.id,
            bank::DeedDecision::Approve {
                points: Some(points),
            },
            None,
        )
        .await
        .expect("approve");
    }
    (uid, token, book.id)
}

async fn new_reward(app: &TestApp, name: &str, cost: i32, stock: i32) -> i64 {
    let admin = api::auth::load_auth_user(app.db(), 1).await.expect("admin");
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    bank::create_reward(
        app.db(),
        &admin,
        bank::NewReward {
            community_id: community,
            name: name.into(),
            description: None,
            cost,
            stock,
        },
    )
    .await
    .expect("reward")
    .id
}

/// Checks every passbook: balance = sum of entries, and each entry's balanceAfter is the
/// running sum, never negative.
async fn assert_ledger_consistent(app: &TestApp) {
    for book in passbook::Entity::find().all(app.db()).await.expect("books") {
        let entries = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::PassbookId.eq(book.id))
            .order_by_asc(ledger_entry::Column::Id)
            .all(app.db())
            .await
            .expect("entries");
        let mut running = 0;
        for e in &entries {
            running += e.amount;
            assert!(
                running >= 0,
                "negative running balance in passbook {}",
                book.id
            );
            assert_eq!(
                e.balance_after, running,
                "entry {} of passbook {}",
                e.id, book.id
            );
        }
        assert_eq!(
            book.balance, running,
            "passbook {} balance vs entries",
            book.id
        );
    }
}

#[tokio::test]
async fn four_hundred_concurrent_mixed_operations_keep_the_ledger_exact() {
    let app = TestApp::with_demo().await;
    let admin = api::auth::load_auth_user(app.db(), 1).await.expect("admin");
    let staff = app.login("staff").await;
    let mut holders = Vec::new();
    for i in 0..5 {
        holders.push(holder(&app, &format!("h{i}"), 20).await);
    }
    let rewards = [
        (new_reward(&app, "小礼品", 5, 12).await, 12),
        (new_reward(&app, "大礼品", 8, 6).await, 6),
    ];
    // 150 pending good deeds to approve concurrently.
    let mut deeds = Vec::new();
    for i in 0..150 {
        let (uid, _, _) = holders[i % 5];
        let d = bank::report_good_deed(
            app.db(),
            &admin,
            bank::NewGoodDeed {
                holder_id: Some(uid),
                category_id: 2,
                description: format!("好事{i}"),
                occurred_on: api::core::validate::today(),
            },
        )
        .await
        .expect("deed");
        deeds.push(d.id);
    }
    let first_entries: Vec<i64> = ledger_entry::Entity::find()
        .filter(
            ledger_entry::Column::PassbookId.is_in(holders.iter().map(|h| h.2).collect::<Vec<_>>()),
        )
        .all(app.db())
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut ops: Vec<(Option<String>, &str, Value)> = Vec::new();
    let mut seed = 12345u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for (i, d) in deeds.iter().enumerate() {
        ops.push((
            Some(staff.clone()),
            REVIEW,
            json!({"d": d.to_string(), "k": format!("deed-{i}")}),
        ));
    }
    for _ in 0..200 {
        let (_, token, _) = &holders[next() % 5];
        let (r, _) = rewards[next() % 2];
        ops.push((
            Some(token.clone()),
            REDEEM,
            json!({"r": r.to_string(), "q": 1 + next() % 2}),
        ));
    }
    for _ in 0..50 {
        let e = first_entries[next() % first_entries.len()];
        ops.push((Some(staff.clone()), REVERSE, json!({"e": e.to_string()})));
    }
    assert_eq!(ops.len(), 400);
    // Interleave the kinds.
    for i in 0..ops.len() {
        let j = next() % ops.len();
        ops.swap(i, j);
    }
    let results = futures::future::join_all(
        ops.iter()
            .map(|(t, q, v)| app.gql(t.as_deref(), q, v.clone())),
    )
    .await;
    for v in &results {
        if let Some(code) = error_code(v) {
            assert!(
                ["BAD_USER_INPUT", "CONFLICT", "INVALID_STATE"].contains(&code),
                "unexpected error {v}"
            );
        }
    }
    let approved = results
        .iter()
        .filter(|v| v["data"]["reviewGoodDeed"].is_object())
        .count();
    assert_eq!(approved, 150, "every approval succeeds");
    assert_ledger_consistent(&app).await;
    for (id, initial) in rewards {
        let r = reward::Entity::find_by_id(id)
            .one(app.db())
            .await
            .expect("db")
            .expect("reward");
        assert!(r.stock >= 0);
        let redeemed: i32 = redemption::Entity::find()
            .filter(redemption::Column::RewardId.eq(id))
            .filter(redemption::Column::Reversed.eq(false))
            .all(app.db())
            .await
            .expect("redemptions")
            .iter()
            .map(|x| x.quantity)
            .sum();
        assert_eq!(
            redeemed,
            initial - r.stock,
            "reward {id}: redeemed vs stock consumed"
        );
    }
}

#[tokio::test]
async fn redemptions_beyond_balance_or_stock_are_refused_and_change_nothing() {
    let app = TestApp::with_demo().await;
    let (_, token, book) = holder(&app, "saver", 20).await;
    let r = new_reward(&app, "电饭煲", 15, 1).await;
    let before_entries = ledger_entry::Entity::find()
        .all(app.db())
        .await
        .expect("db")
        .len();
    let v = app
        .gql(Some(&token), REDEEM, json!({"r": r.to_string(), "q": 2}))
        .await;
    assert!(
        matches!(error_code(&v), Some("BAD_USER_INPUT" | "CONFLICT")),
        "{v}"
    );
    let cheap = new_reward(&app, "贴纸", 1, 100).await;
    let v = app
        .gql(
            Some(&token),
            REDEEM,
            json!({"r": cheap.to_string(), "q": 21}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    let v = app
        .gql(
            Some(&token),
            REDEEM,
            json!({"r": cheap.to_string(), "q": 0}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    assert_eq!(
        ledger_entry::Entity::find()
            .all(app.db())
            .await
            .expect("db")
            .len(),
        before_entries
    );
    let b = passbook::Entity::find_by_id(book)
        .one(app.db())
        .await
        .expect("db")
        .expect("book");
    assert_eq!(b.balance, 20);
    for id in [r, cheap] {
        let item = reward::Entity::find_by_id(id)
            .one(app.db())
            .await
            .expect("db")
            .expect("reward");
        assert_eq!(item.stock, if id == r { 1 } else { 100 });
    }
    // Exactly affordable works and leaves zero.
    let v = app
        .gql(Some(&token), REDEEM, json!({"r": r.to_string(), "q": 1}))
        .await;
    assert_eq!(
        ok(&v)["redeemReward"]["redemption"]["entry"]["balanceAfter"],
        5
    );
    let v = app
        .gql(Some(&token), REDEEM, json!({"r": r.to_string(), "q": 1}))
        .await;
    assert!(
        matches!(error_code(&v), Some("BAD_USER_INPUT" | "CONFLICT")),
        "{v}"
    );
}

#[tokio::test]
async fn the_same_redemption_sent_ten_times_with_one_key_moves_points_once() {
    let app = TestApp::with_demo().await;
    let (_, token, book) = holder(&app, "retrier", 50).await;
    let r = new_reward(&app, "保温杯", 10, 10).await;
    let results = futures::future::join_all((0..10).map(|_| {
        app.gql(
            Some(&token),
            REDEEM,
            json!({"r": r.to_string(), "q": 2, "k": "order-001"}),
        )
    }))
    .await;
    for v in &results {
        assert_eq!(v, &results[0], "identical payloads");
    }
    assert_eq!(ok(&results[0])["redeemReward"]["redemption"]["points"], 20);
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::PassbookId.eq(book))
        .filter(ledger_entry::Column::Kind.eq(entity::ledger_entry::EntryKind::Redeem))
        .all(app.db())
        .await
        .expect("db");
    assert_eq!(entries.len(), 1);
    let b = passbook::Entity::find_by_id(book)
        .one(app.db())
        .await
        .expect("db")
        .expect("book");
    assert_eq!(b.balance, 30);
    let item = reward::Entity::find_by_id(r)
        .one(app.db())
        .await
        .expect("db")
        .expect("reward");
    assert_eq!(item.stock, 8);
    // The same key with other input is a conflict.
    let v = app
        .gql(
            Some(&token),
            REDEEM,
            json!({"r": r.to_string(), "q": 1, "k": "order-001"}),
        )
        .await;
    assert_code(&v, "CONFLICT");
    // Idempotent good-deed review and reversal too.
    let admin = api::auth::load_auth_user(app.db(), 1).await.expect("admin");
    let deed = bank::report_good_deed(
        app.db(),
        &admin,
        bank::NewGoodDeed {
            holder_id: Some(b.holder_id),
            category_id: 4,
            description: "见义勇为".into(),
            occurred_on: api::core::validate::today(),
        },
    )
    .await
    .expect("deed");
    let staff = app.login("staff").await;
    let first = app
        .gql(
            Some(&staff),
            REVIEW,
            json!({"d": deed.id.to_string(), "k": "review-1"}),
        )
        .await;
    let again = app
        .gql(
            Some(&staff),
            REVIEW,
            json!({"d": deed.id.to_string(), "k": "review-1"}),
        )
        .await;
    assert_eq!(ok(&first)["reviewGoodDeed"]["goodDeed"]["points"], 20);
    assert_eq!(first, again);
    assert_code(
        &app.gql(Some(&staff), REVIEW, json!({"d": deed.id.to_string()}))
            .await,
        "INVALID_STATE",
    );
    let b = passbook::Entity::find_by_id(book)
        .one(app.db())
        .await
        .expect("db")
        .expect("book");
    assert_eq!(b.balance, 50);
    assert_ledger_consistent(&app).await;
}

#[tokio::test]
async fn reversals_compensate_once_and_return_redeemed_stock() {
    let app = TestApp::with_demo().await;
    let (_, token, book) = holder(&app, "corrected", 30).await;
    let r = new_reward(&app, "雨伞", 10, 3).await;
    let v = app
        .gql(Some(&token), REDEEM, json!({"r": r.to_string(), "q": 2}))
        .await;
    let entry = ok(&v)["redeemReward"]["redemption"]["entry"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let staff = app.login("staff").await;
    let v = app
        .gql(Some(&staff), REVERSE, json!({"e": entry, "k": "rev-1"}))
        .await;
    let rev = &ok(&v)["reverseLedgerEntry"]["reversal"];
    assert_eq!(rev["amount"], 20);
    assert_eq!(rev["kind"], "REVERSAL");
    assert_eq!(rev["balanceAfter"], 30);
    assert_eq!(rev["reverses"]["id"], entry.as_str());
    let again = app
        .gql(Some(&staff), REVERSE, json!({"e": entry, "k": "rev-1"}))
        .await;
    assert_eq!(v, again, "a retry with the key returns the first result");
    assert_code(
        &app.gql(Some(&staff), REVERSE, json!({"e": entry})).await,
        "CONFLICT",
    );
    let item = reward::Entity::find_by_id(r)
        .one(app.db())
        .await
        .expect("db")
        .expect("reward");
    assert_eq!(item.stock, 3);
    // Reversing the deposit after spending it would overdraw: refused.
    let v = app
        .gql(Some(&token), REDEEM, json!({"r": r.to_string(), "q": 3}))
        .await;
    ok(&v);
    let deposit = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::PassbookId.eq(book))
        .order_by_asc(ledger_entry::Column::Id)
        .one(app.db())
        .await
        .expect("db")
        .expect("entry");
    assert_code(
        &app.gql(Some(&staff), REVERSE, json!({"e": deposit.id.to_string()}))
            .await,
        "BAD_USER_INPUT",
    );
    // The ledger is held immutable by the database itself.
    let res = app
        .db()
        .execute_unprepared(&format!(
            "UPDATE ledger_entries SET amount = 999 WHERE id = {}",
            deposit.id
        ))
        .await;
    assert!(res.is_err(), "ledger entries must not be updatable");
    let res = app
        .db()
        .execute_unprepared(&format!(
            "DELETE FROM ledger_entries WHERE id = {}",
            deposit.id
        ))
        .await;
    assert!(res.is_err(), "ledger entries must not be deletable");
    assert_ledger_consistent(&app).await;
}

#[tokio::test]
async fn passbooks_are_read_by_their_holder_and_staff_only() {
    let app = TestApp::with_demo().await;
    let member2 = app.login("member2").await;
    let v = app.gql(Some(&member2), MY, json!({})).await;
    let book = &ok(&v)["myPassbook"];
    // Demo: +15 for a confirmed SERVICE wish, −10 for two towels.
    assert_eq!(book["balance"], 5);
    assert_eq!(book["entries"]["totalCount"], 2);
    let id = book["id"].as_str().expect("id").to_owned();
    let q = "query($id: ID!) { passbook(id: $id) { number balance holder { username } } }";
    for (who, allowed) in [
        ("member2", true),
        ("staff", true),
        ("admin", true),
        ("member1", false),
        ("wz-staff", false),
        ("grid", false),
    ] {
        let t = app.login(who).await;
        let v = app.gql(Some(&t), q, json!({"id": id})).await;
        if allowed {
            assert_eq!(ok(&v)["passbook"]["holder"]["username"], "member2", "{who}");
        } else {
            assert_code(&v, "FORBIDDEN");
        }
    }
    assert_code(
        &app.gql(None, q, json!({"id": id})).await,
        "UNAUTHENTICATED",
    );
    let staff = app.login("staff").await;
    let v = app.gql(Some(&staff), MY, json!({})).await;
    assert!(ok(&v)["myPassbook"].is_null());
}

#[tokio::test]
async fn good_deeds_rankings_and_the_catalogue() {
    let app = TestApp::with_demo().await;
    let v = app.gql(None, "{ goodDeedCategories { name points } rewards(communityId: \"1\") { totalCount nodes { name cost stock } } }", json!({})).await;
    let d = ok(&v);
    let names: Vec<&str> = d["goodDeedCategories"]
        .as_array()
        .expect("cats")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "志愿服务",
            "邻里互助",
            "调解纠纷",
            "见义勇为",
            "环境卫生",
            "其他"
        ]
    );
    assert_eq!(d["rewards"]["totalCount"], 3);
    // resident1 reports a deed for herself; staff approve with the category's points.
    let resident = app.login("resident1").await;
    let today = api::core::validate::today().to_string();
    let v = app
        .gql(Some(&resident), "mutation($d: Date!) { reportGoodDeed(input: {categoryId: \"3\", description: \"调解邻里噪音纠纷\", occurredOn: $d}) { goodDeed { id status category { name } } } }", json!({"d": today}))
        .await;
    let deed = ok(&v)["reportGoodDeed"]["goodDeed"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let staff = app.login("staff").await;
    let v = app
        .gql(
            Some(&staff),
            "{ goodDeeds(status: PENDING) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["goodDeeds"]["totalCount"], 2);
    let v = app.gql(Some(&staff), REVIEW, json!({"d": deed})).await;
    assert_eq!(ok(&v)["reviewGoodDeed"]["goodDeed"]["points"], 8);
    let v = app
        .gql(None, "query($f: Date!, $t: Date!) { pointsRanking(communityId: \"1\", from: $f, to: $t) { rank points holder { username } } }", json!({"f": today, "t": today}))
        .await;
    let rows = ok(&v)["pointsRanking"].as_array().expect("ranking").clone();
    // Demo deposits today: resident1 5 + 3 (+8 now) = 16, member2 15.
    assert_eq!(rows[0]["holder"]["username"], "resident1");
    assert_eq!(rows[0]["points"], 16);
    assert_eq!(rows[0]["rank"], 1);
    assert_eq!(rows[1]["holder"]["username"], "member2");
    assert_eq!(rows[1]["points"], 15);
    assert_eq!(rows.len(), 2);
    let v = app
        .gql(None, "{ pointsRanking(communityId: \"1\", from: \"2026-12-02\", to: \"2026-12-01\") { rank } }", json!({}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
}

/// A redemption runs at most 6 statements (the viewer cached, as on a server in use), and
/// its payload's entry is the one written, with the balance after it.
#[tokio::test]
async fn a_redemption_runs_at_most_six_statements() {
    let app = TestApp::with_demo().await;
    let member2 = app.login("member2").await;
    let v = app
        .gql(Some(&member2), "{ myPassbook { balance } }", json!({}))
        .await;
    let balance = ok(&v)["myPassbook"]["balance"].as_i64().expect("balance");
    let before = app.statements();
    let v = app
        .gql(Some(&member2), REDEEM, json!({"r": "1", "q": 1}))
        .await;
    let n = app.statements() - before;
    let r = &ok(&v)["redeemReward"]["redemption"];
    let points = r["points"].as_i64().expect("points");
    assert_eq!(r["entry"]["amount"].as_i64(), Some(-points));
    assert_eq!(r["entry"]["balanceAfter"].as_i64(), Some(balance - points));
    assert!(n <= 6, "redeemReward ran {n} statements");
}
