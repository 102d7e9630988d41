//! A randomized concurrency test per domain, in the spirit of a deterministic simulator: a
//! seeded generator draws each round's schedule of operations (who does what to which
//! object), runs each batch of them concurrently through the API, and after every batch
//! checks the domain's invariants against the database.
//!
//! The seed is printed at the start and in every failure; `LIANXIN_SIM_SEED=<seed>` re-runs
//! the same schedule, `LIANXIN_SIM_ROUNDS=<n>` runs more rounds (CI runs a bounded number).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use api::account::rules::RoleGrant;
use entity::{
    agreement, agreement_party, agreement_signature, ledger_entry, passbook, redemption, reward,
    role_assignment::Role, service_slot, shift, shift_signup, wish, wish_claim,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, ok};

/// splitmix64: small, seedable and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn rounds() -> u64 {
    std::env::var("LIANXIN_SIM_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

fn base_seed(domain: &str) -> u64 {
    let seed = std::env::var("LIANXIN_SIM_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    eprintln!("simulator {domain}: seed {seed} (LIANXIN_SIM_SEED={seed} re-runs it)");
    seed
}

/// Batches per round and operations per batch.
const BATCHES: usize = 6;
const OPS: usize = 24;

/// Outcomes of a round by operation and code, printed with the seed; a round in which no
/// operation of a kind succeeded would test nothing, so it fails.
#[derive(Default)]
struct Tally(BTreeMap<String, BTreeMap<String, usize>>);

impl Tally {
    fn add(&mut self, query: &str, v: &Value) {
        let op = query
            .split(['{', '('])
            .nth(1)
            .map(str::trim)
            .unwrap_or("?")
            .to_owned();
        let op = query
            .split_once(") { ")
            .and_then(|(_, rest)| rest.split('(').next())
            .map(str::trim)
            .map(str::to_owned)
            .unwrap_or(op);
        let code = error_code(v).unwrap_or("OK").to_owned();
        if std::env::var_os("SIM_DEBUG").is_some() && code == "FORBIDDEN" {
            eprintln!("{op}: {v}");
        }
        *self.0.entry(op).or_default().entry(code).or_default() += 1;
    }

    fn finish(&self, domain: &str, seed: u64, must_succeed: &[&str]) {
        eprintln!("simulator {domain}, seed {seed}: {:?}", self.0);
        for op in must_succeed {
            let ok = self
                .0
                .get(*op)
                .and_then(|m| m.get("OK"))
                .copied()
                .unwrap_or(0);
            assert!(ok > 0, "seed {seed}: no {op} succeeded: {:?}", self.0);
        }
    }
}

/// No error of any operation is INTERNAL or uncoded.
fn coded(seed: u64, results: &[Value]) {
    for v in results {
        if v.get("errors").is_some() {
            let code = error_code(v);
            assert!(
                code.is_some() && code != Some("INTERNAL"),
                "seed {seed}: {v}"
            );
        }
    }
}

fn id_of(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = &v["data"];
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().map(str::to_owned)
}

fn grant(role: Role, community: Option<i64>, org: Option<i64>) -> Vec<RoleGrant> {
    vec![RoleGrant {
        role,
        community_id: community,
        grid_id: None,
        organization_id: org,
    }]
}

// ---- wishes ---------------------------------------------------------------------------

#[tokio::test]
async fn simulated_wishes_keep_one_claim_and_deposit_once() {
    let mut tally = Tally::default();
    let seed0 = base_seed("wishes");
    for round in 0..rounds() {
        wish_round(seed0.wrapping_add(round), &mut tally).await;
    }
    tally.finish(
        "wishes",
        seed0,
        &["claimWish", "fulfillWish", "confirmWish"],
    );
}

async fn wish_round(seed: u64, tally: &mut Tally) {
    let mut rng = Rng(seed);
    let app = TestApp::with_demo().await;
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let grid_id = app.grid_id("汇通第一网格").await;
    let resident = app.login("resident1").await;
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let mut wishes = Vec::new();
    for i in 0..10 {
        let v = app
            .gql(Some(&resident), "mutation($g: ID!, $t: String!) { submitWish(input: {gridId: $g, title: $t, description: \"模拟\", category: GOODS}) { wish { id } } }", json!({"g": grid_id, "t": format!("模拟心愿{i}")}))
            .await;
        let id = ok(&v)["submitWish"]["wish"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        ok(&app
            .gql(Some(&staff), "mutation($w: ID!) { reviewWish(input: {wishId: $w, decision: PUBLISH}) { wish { id } } }", json!({"w": id}))
            .await);
        wishes.push(id);
    }
    let mut members = Vec::new();
    let mut token_of: HashMap<i64, String> = HashMap::new();
    for i in 0..8 {
        let (uid, t) = app
            .quick_user(
                &format!("sim-member-{i}"),
                &grant(Role::PartyMember, Some(community), None),
            )
            .await;
        token_of.insert(uid, t.clone());
        members.push(t);
    }
    let max_claims = app.state.config.max_active_claims as usize;
    for batch in 0..BATCHES {
        // The wishes as they stand at the batch's start: each operation mostly targets a
        // wish in the state it needs, by the member who holds the claim, so that every step
        // of the machine is exercised (the seed still decides which, when and by whom).
        let rows = wish::Entity::find().all(app.db()).await.expect("wishes");
        let in_state = |st: entity::wish::WishStatus| -> Vec<String> {
            rows.iter()
                .filter(|w| w.status == st)
                .map(|w| w.id.to_string())
                .collect()
        };
        let claimant: HashMap<String, i64> = rows
            .iter()
            .filter_map(|w| w.claimant_id.map(|c| (w.id.to_string(), c)))
            .collect();
        use entity::wish::WishStatus as W;
        let (published, claimed, fulfilled) = (
            in_state(W::Published),
            in_state(W::Claimed),
            in_state(W::Fulfilled),
        );
        let mut ops = Vec::new();
        for _ in 0..OPS {
            let kind = rng.below(20);
            let wanted = match kind {
                0..=7 => &published,
                8..=11 => &claimed,
                12..=17 => &fulfilled,
                _ => &wishes,
            };
            let w = if !wanted.is_empty() && rng.below(4) != 0 {
                rng.pick(wanted).clone()
            } else {
                rng.pick(&wishes).clone()
            };
            let m = match claimant.get(&w).and_then(|c| token_of.get(c)) {
                Some(holder) if kind >= 8 && rng.below(4) != 0 => holder.clone(),
                _ => rng.pick(&members).clone(),
            };
            let op = match kind {
                0..=7 => (
                    "mutation($w: ID!) { claimWish(input: {wishId: $w}) { wish { id } } }",
                    m,
                ),
                8..=9 => (
                    "mutation($w: ID!) { releaseWishClaim(input: {wishId: $w, reason: \"临时有事\"}) { wish { id } } }",
                    m,
                ),
                10..=11 => (
                    "mutation($w: ID!) { fulfillWish(input: {wishId: $w, note: \"已送达\"}) { wish { id } } }",
                    m,
                ),
                12..=17 => (
                    "mutation($w: ID!) { confirmWish(input: {wishId: $w, rating: 5}) { wish { id } } }",
                    grid.clone(),
                ),
                _ => (
                    "mutation($w: ID!) { cancelWish(input: {wishId: $w}) { wish { id } } }",
                    staff.clone(),
                ),
            };
            ops.push((op.0, op.1, w));
        }
        let results = futures::future::join_all(
            ops.iter()
                .map(|(q, token, w)| app.gql(Some(token), q, json!({"w": w}))),
        )
        .await;
        coded(seed, &results);
        for (op, v) in ops.iter().zip(&results) {
            tally.add(op.0, v);
        }
        check_wishes(&app, seed, batch, max_claims).await;
    }
}

async fn check_wishes(app: &TestApp, seed: u64, batch: usize, max_claims: usize) {
    use entity::{ledger_entry::EntrySource, wish::WishStatus, wish_claim::ClaimStatus};
    let at = format!("seed {seed}, batch {batch}");
    let wishes = wish::Entity::find().all(app.db()).await.expect("wishes");
    let claims = wish_claim::Entity::find()
        .all(app.db())
        .await
        .expect("claims");
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Source.eq(EntrySource::Wish))
        .all(app.db())
        .await
        .expect("entries");
    let mut per_member: HashMap<i64, usize> = HashMap::new();
    for w in &wishes {
        let active: Vec<_> = claims
            .iter()
            .filter(|c| c.wish_id == w.id && c.status == ClaimStatus::Active)
            .collect();
        assert!(
            active.len() <= 1,
            "{at}: wish {} has {} active claims",
            w.id,
            active.len()
        );
        match w.status {
            WishStatus::Claimed | WishStatus::Fulfilled => {
                assert_eq!(
                    active.len(),
                    1,
                    "{at}: wish {} {:?} without its claim",
                    w.id,
                    w.status
                );
                assert_eq!(
                    w.claimant_id,
                    Some(active[0].member_id),
                    "{at}: wish {}",
                    w.id
                );
                *per_member.entry(active[0].member_id).or_default() += 1;
            }
            WishStatus::Confirmed => {
                assert!(
                    active.is_empty(),
                    "{at}: wish {} confirmed keeps a claim",
                    w.id
                );
                let done: Vec<_> = claims
                    .iter()
                    .filter(|c| c.wish_id == w.id && c.status == ClaimStatus::Completed)
                    .collect();
                assert_eq!(done.len(), 1, "{at}: wish {} completed claims", w.id);
                assert_eq!(
                    w.claimant_id,
                    Some(done[0].member_id),
                    "{at}: wish {}",
                    w.id
                );
            }
            _ => {
                assert!(
                    active.is_empty(),
                    "{at}: wish {} {:?} keeps a claim",
                    w.id,
                    w.status
                );
                assert!(
                    w.claimant_id.is_none(),
                    "{at}: wish {} {:?} keeps a claimant",
                    w.id,
                    w.status
                );
            }
        }
        let deposits = entries
            .iter()
            .filter(|e| e.source_id == Some(w.id) && e.amount > 0)
            .count();
        let expected = usize::from(w.status == WishStatus::Confirmed);
        assert_eq!(
            deposits, expected,
            "{at}: wish {} {:?} deposits",
            w.id, w.status
        );
    }
    for (m, n) in per_member {
        assert!(n <= max_claims, "{at}: member {m} holds {n} claims");
    }
}

// ---- the moral bank -------------------------------------------------------------------

#[tokio::test]
async fn simulated_redemptions_never_overdraw_or_oversell() {
    let mut tally = Tally::default();
    let seed0 = base_seed("bank");
    for round in 0..rounds() {
        bank_round(seed0.wrapping_add(round), &mut tally).await;
    }
    tally.finish("bank", seed0, &["redeemReward", "adjustRewardStock"]);
}

async fn bank_round(seed: u64, tally: &mut Tally) {
    let mut rng = Rng(seed);
    let app = TestApp::with_demo().await;
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let staff = app.login("staff").await;
    let admin = api::auth::load_auth_user(app.db(), 1).await.expect("admin");
    let mut holders = Vec::new();
    for i in 0..6 {
        let (uid, token) = app
            .quick_user(
                &format!("sim-holder-{i}"),
                &grant(Role::Resident, Some(community), None),
            )
            .await;
        api::bank::rules::open_passbook(app.db(), &admin, uid, community, None)
            .await
            .expect("passbook");
        let deed = api::bank::rules::report_good_deed(
            app.db(),
            &admin,
            api::bank::rules::NewGoodDeed {
                holder_id: Some(uid),
                category_id: 1,
                description: "模拟".into(),
                occurred_on: api::core::validate::today(),
            },
        )
        .await
        .expect("deed");
        api::bank::rules::review_good_deed(
            app.db(),
            &app.state.events,
            &admin,
            deed.id,
            api::bank::rules::DeedDecision::Approve { points: Some(60) },
            None,
        )
        .await
        .expect("deposit");
        holders.push(token);
    }
    let mut rewards = Vec::new();
    for (i, cost) in [7, 13, 29].into_iter().enumerate() {
        let v = app
            .gql(Some(&staff), "mutation($c: ID!, $n: String!, $p: Int!) { createReward(input: {communityId: $c, name: $n, cost: $p, stock: 4}) { reward { id } } }", json!({"c": community.to_string(), "n": format!("模拟奖品{i}"), "p": cost}))
            .await;
        rewards.push(
            ok(&v)["createReward"]["reward"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut adjusted: BTreeMap<String, i64> = BTreeMap::new();
    let mut entries: Vec<String> = Vec::new();
    const REDEEM: &str = "mutation($r: ID!, $q: Int!, $k: String) { redeemReward(input: {rewardId: $r, quantity: $q, idempotencyKey: $k}) { redemption { entry { id } } } }";
    const ADJUST: &str = "mutation($r: ID!, $d: Int!) { adjustRewardStock(input: {rewardId: $r, delta: $d}) { reward { stock } } }";
    const REVERSE: &str = "mutation($e: ID!) { reverseLedgerEntry(input: {entryId: $e, reason: \"模拟冲正\"}) { reversal { id } } }";
    for batch in 0..BATCHES {
        let mut ops: Vec<(&str, String, Value)> = Vec::new();
        for _ in 0..OPS {
            let r = rng.pick(&rewards).clone();
            match rng.below(10) {
                0..=5 => {
                    let h = rng.below(holders.len());
                    // A small pool of keys per holder: retries with the same key happen.
                    let key = format!("h{h}-k{}", rng.below(4));
                    let q = 1 + rng.below(2) as i64;
                    ops.push((
                        REDEEM,
                        holders[h].clone(),
                        json!({"r": r, "q": q, "k": key}),
                    ));
                }
                6..=7 => {
                    let d = rng.below(9) as i64 - 4;
                    let d = if d == 0 { 1 } else { d };
                    ops.push((ADJUST, staff.clone(), json!({"r": r, "d": d})));
                }
                _ if !entries.is_empty() => {
                    let e = rng.pick(&entries).clone();
                    ops.push((REVERSE, staff.clone(), json!({"e": e})));
                }
                _ => {}
            }
        }
        let results =
            futures::future::join_all(ops.iter().map(|(q, t, v)| app.gql(Some(t), q, v.clone())))
                .await;
        coded(seed, &results);
        for (op, v) in ops.iter().zip(&results) {
            tally.add(op.0, v);
        }
        for ((q, _, vars), v) in ops.iter().zip(&results) {
            if v.get("errors").is_some() {
                continue;
            }
            if *q == ADJUST {
                *adjusted
                    .entry(vars["r"].as_str().expect("r").to_owned())
                    .or_default() += vars["d"].as_i64().expect("d");
            }
            if let Some(e) = id_of(v, &["redeemReward", "redemption", "entry", "id"]) {
                entries.push(e);
            }
        }
        check_bank(&app, seed, batch, &rewards, &adjusted).await;
    }
}

async fn check_bank(
    app: &TestApp,
    seed: u64,
    batch: usize,
    rewards: &[String],
    adjusted: &BTreeMap<String, i64>,
) {
    let at = format!("seed {seed}, batch {batch}");
    for book in passbook::Entity::find().all(app.db()).await.expect("books") {
        let entries = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::PassbookId.eq(book.id))
            .order_by_asc(ledger_entry::Column::Id)
            .all(app.db())
            .await
            .expect("entries");
        let mut running = 0i64;
        for e in &entries {
            running += e.amount;
            assert_eq!(
                e.balance_after, running,
                "{at}: entry {} of passbook {}",
                e.id, book.id
            );
            assert!(running >= 0, "{at}: passbook {} went negative", book.id);
        }
        assert_eq!(book.balance, running, "{at}: passbook {} balance", book.id);
    }
    let redemptions = redemption::Entity::find()
        .all(app.db())
        .await
        .expect("redemptions");
    for id in rewards {
        let rid: i64 = id.parse().expect("id");
        let r = reward::Entity::find_by_id(rid)
            .one(app.db())
            .await
            .expect("reward")
            .expect("reward");
        assert!(r.stock >= 0, "{at}: reward {rid} stock {}", r.stock);
        let sold: i64 = redemptions
            .iter()
            .filter(|x| x.reward_id == rid && !x.reversed)
            .map(|x| i64::from(x.quantity))
            .sum();
        let moved = adjusted.get(id).copied().unwrap_or(0);
        assert_eq!(
            i64::from(r.stock),
            4 + moved - sold,
            "{at}: reward {rid}: stock moved must equal redemptions"
        );
    }
}

// ---- agreements -----------------------------------------------------------------------

#[tokio::test]
async fn simulated_agreements_are_active_only_with_every_signature() {
    let mut tally = Tally::default();
    let seed0 = base_seed("agreements");
    for round in 0..rounds() {
        agreement_round(seed0.wrapping_add(round), &mut tally).await;
    }
    tally.finish("agreements", seed0, &["signAgreement"]);
}

async fn agreement_round(seed: u64, tally: &mut Tally) {
    use entity::organization::{self, OrganizationKind};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let mut rng = Rng(seed);
    let app = TestApp::spawn().await;
    let mut parties: Vec<(i64, String)> = Vec::new();
    for i in 0..5 {
        let org = organization::ActiveModel {
            name: Set(format!("模拟党支部{i}")),
            kind: Set(OrganizationKind::Branch),
            parent_id: Set(None),
            community_id: Set(None),
            created_at: Set(api::core::clock::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("org");
        let (_, token) = app
            .quick_user(
                &format!("sim-rep-{i}"),
                &grant(Role::UnitRep, None, Some(org.id)),
            )
            .await;
        parties.push((org.id, token));
    }
    const PROPOSE: &str = "mutation($t: String!, $p: [ID!]!, $s: Date!, $e: Date!) { proposeAgreement(input: {title: $t, kinds: [MUTUAL_SERVICE], partyIds: $p, commitments: [\"共同开展志愿服务\"], startDate: $s, endDate: $e}) { agreement { id } } }";
    const SIGN: &str =
        "mutation($a: ID!) { signAgreement(input: {agreementId: $a}) { agreement { status } } }";
    const TERMINATE: &str = "mutation($a: ID!) { terminateAgreement(input: {agreementId: $a, reason: \"模拟终止\"}) { agreement { status } } }";
    let today = api::core::validate::today();
    let mut agreements: Vec<(String, Vec<usize>)> = Vec::new();
    for batch in 0..BATCHES {
        // New proposals between two or three parties (the proposer is one of them).
        for n in 0..3 {
            let mut who: BTreeSet<usize> = BTreeSet::new();
            let size = 2 + rng.below(2);
            while who.len() < size {
                who.insert(rng.below(parties.len()));
            }
            let who: Vec<usize> = who.into_iter().collect();
            let ids: Vec<String> = who.iter().map(|i| parties[*i].0.to_string()).collect();
            let v = app
                .gql(Some(&parties[who[0]].1), PROPOSE, json!({"t": format!("模拟协议{batch}-{n}"), "p": ids, "s": (today - chrono::Duration::days(1)).to_string(), "e": (today + chrono::Duration::days(90)).to_string()}))
                .await;
            let id = ok(&v)["proposeAgreement"]["agreement"]["id"]
                .as_str()
                .expect("id")
                .to_owned();
            agreements.push((id, who));
        }
        let mut ops: Vec<(&str, String, String)> = Vec::new();
        for _ in 0..OPS {
            let (a, who) = rng.pick(&agreements).clone();
            // Mostly a party's rep; sometimes an outsider (refused).
            let p = if rng.below(6) == 0 {
                rng.below(parties.len())
            } else {
                *rng.pick(&who)
            };
            let q = if rng.below(8) == 0 { TERMINATE } else { SIGN };
            ops.push((q, parties[p].1.clone(), a));
        }
        let results = futures::future::join_all(
            ops.iter()
                .map(|(q, t, a)| app.gql(Some(t), q, json!({"a": a}))),
        )
        .await;
        coded(seed, &results);
        for (op, v) in ops.iter().zip(&results) {
            tally.add(op.0, v);
        }
        check_agreements(&app, seed, batch).await;
    }
}

async fn check_agreements(app: &TestApp, seed: u64, batch: usize) {
    use entity::agreement::StoredAgreementStatus as S;
    let at = format!("seed {seed}, batch {batch}");
    let parties = agreement_party::Entity::find()
        .all(app.db())
        .await
        .expect("parties");
    let signatures = agreement_signature::Entity::find()
        .all(app.db())
        .await
        .expect("sigs");
    for a in agreement::Entity::find()
        .all(app.db())
        .await
        .expect("agreements")
    {
        let of: BTreeSet<i64> = parties
            .iter()
            .filter(|p| p.agreement_id == a.id)
            .map(|p| p.organization_id)
            .collect();
        let signed: Vec<i64> = signatures
            .iter()
            .filter(|s| s.agreement_id == a.id)
            .map(|s| s.organization_id)
            .collect();
        let distinct: BTreeSet<i64> = signed.iter().copied().collect();
        assert_eq!(
            signed.len(),
            distinct.len(),
            "{at}: agreement {} signed twice by one party",
            a.id
        );
        assert!(
            distinct.is_subset(&of),
            "{at}: agreement {} signed by an outsider",
            a.id
        );
        if a.status == S::Signed {
            assert_eq!(
                distinct, of,
                "{at}: agreement {} SIGNED without every party",
                a.id
            );
            assert!(a.signed_at.is_some(), "{at}: agreement {}", a.id);
        }
        if a.status == S::Proposed {
            assert!(
                distinct.len() < of.len(),
                "{at}: agreement {} fully signed but PROPOSED",
                a.id
            );
        }
    }
}

// ---- schedules ------------------------------------------------------------------------

#[tokio::test]
async fn simulated_schedules_never_overfill_or_overlap() {
    let mut tally = Tally::default();
    let seed0 = base_seed("schedules");
    for round in 0..rounds() {
        schedule_round(seed0.wrapping_add(round), &mut tally).await;
    }
    tally.finish("schedules", seed0, &["signUpForShift", "updateServiceSlot"]);
}

async fn schedule_round(seed: u64, tally: &mut Tally) {
    use chrono::Datelike;
    let mut rng = Rng(seed);
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let first = api::core::validate::today() + chrono::Duration::days(3);
    let wd = first.weekday().number_from_monday();
    let last = first + chrono::Duration::days(21);
    const CREATE: &str = "mutation($w: Int!, $s: String!, $e: String!, $f: Date!, $t: Date!) { createServiceSlot(input: {communityId: \"1\", title: \"模拟排班\", weekday: $w, startTime: $s, endTime: $e, capacity: 2, validFrom: $f, validTo: $t, eligibleOrganizationIds: [\"7\"]}) { slot { id } } }";
    let mut slots = Vec::new();
    for (s, e) in [("09:00", "11:00"), ("10:30", "12:30"), ("14:00", "16:00")] {
        let v = app
            .gql(
                Some(&staff),
                CREATE,
                json!({"w": wd, "s": s, "e": e, "f": first.to_string(), "t": last.to_string()}),
            )
            .await;
        slots.push(
            ok(&v)["createServiceSlot"]["slot"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut shifts = Vec::new();
    for s in &slots {
        let v = app
            .gql(
                None,
                "query($s: ID!) { shifts(slotId: $s, first: 100) { nodes { id } } }",
                json!({"s": s}),
            )
            .await;
        for n in ok(&v)["shifts"]["nodes"].as_array().expect("nodes") {
            shifts.push(n["id"].as_str().expect("id").to_owned());
        }
    }
    let mut students = Vec::new();
    for i in 0..8 {
        let (_, t) = app
            .quick_user(
                &format!("sim-student-{i}"),
                &grant(Role::Student, None, Some(7)),
            )
            .await;
        students.push(t);
    }
    const SIGN_UP: &str =
        "mutation($x: ID!) { signUpForShift(input: {shiftId: $x}) { signup { id } } }";
    const SERIES: &str =
        "mutation($x: ID!) { signUpForSeries(input: {slotId: $x}) { items { signup { id } } } }";
    const CANCEL: &str =
        "mutation($x: ID!) { cancelShiftSignup(input: {signupId: $x}) { signup { id } } }";
    const CAPACITY: &str = "mutation($x: ID!, $c: Int!) { updateServiceSlot(input: {slotId: $x, capacity: $c}) { slot { id } } }";
    const TIMES: &str = "mutation($x: ID!, $s: String!, $e: String!) { updateServiceSlot(input: {slotId: $x, startTime: $s, endTime: $e}) { slot { id } } }";
    let times = [
        ("09:00", "11:00"),
        ("10:00", "12:00"),
        ("11:30", "13:30"),
        ("14:00", "16:00"),
    ];
    let mut signups: Vec<(usize, String)> = Vec::new();
    for batch in 0..BATCHES {
        let mut ops: Vec<(&str, String, Value, Option<usize>)> = Vec::new();
        for _ in 0..OPS {
            let st = rng.below(students.len());
            match rng.below(12) {
                0..=4 => ops.push((
                    SIGN_UP,
                    students[st].clone(),
                    json!({"x": rng.pick(&shifts)}),
                    Some(st),
                )),
                5 => ops.push((
                    SERIES,
                    students[st].clone(),
                    json!({"x": rng.pick(&slots)}),
                    Some(st),
                )),
                6..=7 if !signups.is_empty() => {
                    let (owner, id) = rng.pick(&signups).clone();
                    ops.push((CANCEL, students[owner].clone(), json!({"x": id}), None));
                }
                8..=9 => ops.push((
                    CAPACITY,
                    staff.clone(),
                    json!({"x": rng.pick(&slots), "c": 1 + rng.below(4)}),
                    None,
                )),
                10..=11 => {
                    let (s, e) = *rng.pick(&times);
                    ops.push((
                        TIMES,
                        staff.clone(),
                        json!({"x": rng.pick(&slots), "s": s, "e": e}),
                        None,
                    ));
                }
                _ => {}
            }
        }
        let results = futures::future::join_all(
            ops.iter()
                .map(|(q, t, v, _)| app.gql(Some(t), q, v.clone())),
        )
        .await;
        coded(seed, &results);
        for (op, v) in ops.iter().zip(&results) {
            tally.add(op.0, v);
        }
        for ((_, _, _, who), v) in ops.iter().zip(&results) {
            let Some(st) = who else { continue };
            if let Some(id) = id_of(v, &["signUpForShift", "signup", "id"]) {
                signups.push((*st, id));
            }
            for item in v["data"]["signUpForSeries"]["items"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(id) = item["signup"]["id"].as_str() {
                    signups.push((*st, id.to_owned()));
                }
            }
        }
        check_schedules(&app, seed, batch).await;
    }
}

async fn check_schedules(app: &TestApp, seed: u64, batch: usize) {
    use entity::shift_signup::SignupStatus;
    let at = format!("seed {seed}, batch {batch}");
    let shifts = shift::Entity::find().all(app.db()).await.expect("shifts");
    let signups = shift_signup::Entity::find()
        .all(app.db())
        .await
        .expect("signups");
    let slots = service_slot::Entity::find()
        .all(app.db())
        .await
        .expect("slots");
    let now = api::core::clock::now();
    for sh in &shifts {
        let holding = signups
            .iter()
            .filter(|s| s.shift_id == sh.id && SignupStatus::HOLDING.contains(&s.status))
            .count() as i32;
        assert_eq!(sh.taken, holding, "{at}: shift {} taken", sh.id);
        assert!(
            sh.taken <= sh.capacity,
            "{at}: shift {} over capacity",
            sh.id
        );
        if sh.starts_at > now
            && let Some(slot) = slots.iter().find(|s| s.id == sh.slot_id)
        {
            let local = |t: chrono::DateTime<chrono::Utc>| {
                t.with_timezone(&chrono_tz::Asia::Shanghai)
                    .format("%H:%M")
                    .to_string()
            };
            assert_eq!(
                local(sh.starts_at),
                slot.start_time,
                "{at}: shift {} vs slot {}",
                sh.id,
                slot.id
            );
            assert_eq!(
                local(sh.ends_at),
                slot.end_time,
                "{at}: shift {} vs slot {}",
                sh.id,
                slot.id
            );
            assert_eq!(
                sh.capacity, slot.capacity,
                "{at}: shift {} capacity vs slot",
                sh.id
            );
        }
    }
    let mut by_student: BTreeMap<i64, Vec<&shift::Model>> = BTreeMap::new();
    for s in signups
        .iter()
        .filter(|s| SignupStatus::HOLDING.contains(&s.status))
    {
        if let Some(sh) = shifts.iter().find(|x| x.id == s.shift_id) {
            by_student.entry(s.student_id).or_default().push(sh);
        }
    }
    for (student, held) in by_student {
        for (i, a) in held.iter().enumerate() {
            for b in held.iter().skip(i + 1) {
                let overlap = a.starts_at < b.ends_at && b.starts_at < a.ends_at;
                assert!(
                    !overlap,
                    "{at}: student {student} holds overlapping shifts {} and {}",
                    a.id, b.id
                );
            }
        }
    }
}

// ---- incidents ------------------------------------------------------------------------

#[tokio::test]
async fn simulated_incident_steps_chain_into_a_legal_history() {
    let mut tally = Tally::default();
    let seed0 = base_seed("incidents");
    for round in 0..rounds() {
        incident_round(seed0.wrapping_add(round), &mut tally).await;
    }
    tally.finish(
        "incidents",
        seed0,
        &["whistleIncident", "dispatchIncident", "acceptIncident"],
    );
}

async fn incident_round(seed: u64, tally: &mut Tally) {
    let mut rng = Rng(seed);
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let power = crate::incidents::org_id(&app, "仙林供电所党支部").await;
    let mut incidents = Vec::new();
    for _ in 0..4 {
        incidents.push(crate::incidents::reported(&app, &grid, None).await);
    }
    // One incident is walked to ACCEPTED first, so that every round holds a dispatched and
    // accepted incident whatever the seed (a seed that resolved the others on the spot
    // early could otherwise leave no acceptance to race); the random steps follow.
    let walked = incidents[0].clone();
    for (token, mutation, input) in [
        (
            &grid,
            "whistleIncident",
            json!({"incidentId": walked, "note": "吹哨"}),
        ),
        (
            &staff,
            "dispatchIncident",
            json!({"incidentId": walked, "organizationId": power}),
        ),
        (&rep, "acceptIncident", json!({"incidentId": walked})),
    ] {
        let v = crate::incidents::step(&app, token, mutation, input).await;
        let code = error_code(&v).unwrap_or("OK").to_owned();
        assert_eq!(
            code, "OK",
            "seed {seed}: {mutation} of the walked incident: {v}"
        );
        *tally
            .0
            .entry(mutation.to_owned())
            .or_default()
            .entry(code)
            .or_default() += 1;
    }
    for batch in 0..BATCHES {
        let mut ops = Vec::new();
        for _ in 0..OPS {
            let id = rng.pick(&incidents).clone();
            let (token, mutation, input) = match rng.below(7) {
                0 => (
                    &grid,
                    "whistleIncident",
                    json!({"incidentId": id, "note": "吹哨"}),
                ),
                1 => (
                    &grid,
                    "resolveIncidentOnSite",
                    json!({"incidentId": id, "note": "当场解决"}),
                ),
                2 => (
                    &staff,
                    "dispatchIncident",
                    json!({"incidentId": id, "organizationId": power}),
                ),
                3 => (&rep, "acceptIncident", json!({"incidentId": id})),
                4 => (
                    &rep,
                    "handleIncident",
                    json!({"incidentId": id, "result": "已处理"}),
                ),
                5 => (
                    &grid,
                    "closeIncident",
                    json!({"incidentId": id, "rating": 5}),
                ),
                _ => (
                    &grid,
                    "reopenIncident",
                    json!({"incidentId": id, "note": "未解决"}),
                ),
            };
            ops.push((token.clone(), mutation, input));
        }
        let results = futures::future::join_all(ops.iter().map(|(token, mutation, input)| {
            crate::incidents::step(&app, token, mutation, input.clone())
        }))
        .await;
        for ((_, mutation, _), v) in ops.iter().zip(&results) {
            let code = error_code(v).unwrap_or("OK").to_owned();
            *tally
                .0
                .entry((*mutation).to_owned())
                .or_default()
                .entry(code)
                .or_default() += 1;
        }
        coded(seed, &results);
        check_incidents(&app, seed, batch).await;
    }
}

/// Each incident's history starts at REPORTED, each step starts from the status the previous
/// one left, each step is a legal transition, and the last step is the incident's status.
async fn check_incidents(app: &TestApp, seed: u64, batch: usize) {
    use entity::{incident, incident_step};
    for i in incident::Entity::find()
        .all(app.db())
        .await
        .expect("incidents")
    {
        let steps = incident_step::Entity::find()
            .filter(incident_step::Column::IncidentId.eq(i.id))
            .order_by_asc(incident_step::Column::Id)
            .all(app.db())
            .await
            .expect("steps");
        let first = steps.first().expect("a first step");
        assert_eq!(
            (first.from_status, first.to_status),
            (None, incident::IncidentStatus::Reported),
            "seed {seed}, batch {batch}, incident {}",
            i.id
        );
        for pair in steps.windows(2) {
            assert_eq!(
                pair[1].from_status,
                Some(pair[0].to_status),
                "seed {seed}, batch {batch}, incident {}: {steps:?}",
                i.id
            );
            assert!(
                api::incident::policy::steps_from(pair[1].to_status).contains(&pair[0].to_status),
                "seed {seed}, batch {batch}, incident {}: illegal {:?} -> {:?}",
                i.id,
                pair[0].to_status,
                pair[1].to_status
            );
        }
        assert_eq!(
            steps.last().map(|s| s.to_status),
            Some(i.status),
            "seed {seed}, batch {batch}, incident {}",
            i.id
        );
    }
}
