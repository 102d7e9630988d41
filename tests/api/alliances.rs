use api::account::rules::RoleGrant;
use entity::{organization, organization::OrganizationKind, role_assignment::Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

const PROPOSE: &str = "mutation($t: String!, $k: [AgreementKind!]!, $p: [ID!]!, $s: Date!, $e: Date!, $d: Boolean) { proposeAgreement(input: {title: $t, kinds: $k, partyIds: $p, commitments: [\"共同开展志愿服务\"], startDate: $s, endDate: $e, asDraft: $d}) { agreement { id status } } }";
const SIGN: &str = "mutation($a: ID!, $o: ID) { signAgreement(input: {agreementId: $a, organizationId: $o}) { agreement { status allSigned signatures { organization { id } signer { username } signedAt } pendingParties { id } } } }";
const AGREEMENT: &str = "query($id: ID!) { agreement(id: $id) { status allSigned signatures { organization { id } } parties { id } title commitments } }";

/// A party branch located in `community` with a UNIT_REP; returns (org id, rep token).
async fn branch(app: &TestApp, name: &str, community: Option<i64>) -> (i64, String) {
    let org = organization::ActiveModel {
        name: Set(name.into()),
        kind: Set(OrganizationKind::Branch),
        parent_id: Set(None),
        community_id: Set(community),
        created_at: Set(api::core::clock::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("org");
    let (_, token) = app
        .quick_user(
            &format!("rep-{}", org.id),
            &[RoleGrant {
                role: Role::UnitRep,
                community_id: None,
                grid_id: None,
                organization_id: Some(org.id),
            }],
        )
        .await;
    (org.id, token)
}

fn day(offset: i64) -> String {
    (api::core::validate::today() + chrono::Duration::days(offset)).to_string()
}

async fn propose(
    app: &TestApp,
    token: &str,
    title: &str,
    parties: &[i64],
    start: i64,
    end: i64,
) -> Value {
    let ids: Vec<String> = parties.iter().map(i64::to_string).collect();
    app.gql(
        Some(token),
        PROPOSE,
        json!({"t": title, "k": ["JOINT_ACTIVITIES", "MUTUAL_SERVICE"], "p": ids, "s": day(start), "e": day(end)}),
    )
    .await
}

#[tokio::test]
async fn an_agreement_becomes_active_only_when_the_last_party_signs_even_all_at_once() {
    let app = TestApp::spawn().await;
    let mut parties = Vec::new();
    for i in 0..5 {
        parties.push(branch(&app, &format!("第{i}党支部"), None).await);
    }
    let ids: Vec<i64> = parties.iter().map(|p| p.0).collect();
    // Sequential: ACTIVE only after the last signature.
    let v = propose(&app, &parties[0].1, "逐一签署", &ids[..3], -1, 30).await;
    let id = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        ok(&v)["proposeAgreement"]["agreement"]["status"],
        "PROPOSED"
    );
    for (n, (org, token)) in parties[..3].iter().enumerate() {
        let v = app.gql(Some(token), SIGN, json!({"a": id})).await;
        let a = &ok(&v)["signAgreement"]["agreement"];
        assert_eq!(a["signatures"].as_array().map(Vec::len), Some(n + 1));
        assert_eq!(
            a["status"],
            if n == 2 { "ACTIVE" } else { "PROPOSED" },
            "after signature of {org}"
        );
        assert_eq!(a["pendingParties"].as_array().map(Vec::len), Some(2 - n));
    }
    // All at once, three times over.
    for round in 0..3 {
        let v = propose(
            &app,
            &parties[0].1,
            &format!("同时签署{round}"),
            &ids,
            0,
            365,
        )
        .await;
        let id = ok(&v)["proposeAgreement"]["agreement"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let results = futures::future::join_all(
            parties
                .iter()
                .map(|(_, t)| app.gql(Some(t), SIGN, json!({"a": id}))),
        )
        .await;
        for r in &results {
            ok(r);
        }
        let v = app.gql(None, AGREEMENT, json!({"id": id})).await;
        let a = &ok(&v)["agreement"];
        assert_eq!(a["status"], "ACTIVE", "round {round}: {a}");
        let mut signed: Vec<&str> = a["signatures"]
            .as_array()
            .expect("sigs")
            .iter()
            .filter_map(|s| s["organization"]["id"].as_str())
            .collect();
        signed.sort_unstable();
        signed.dedup();
        assert_eq!(signed.len(), 5, "exactly one signature per party");
        assert_eq!(a["signatures"].as_array().map(Vec::len), Some(5));
    }
}

#[tokio::test]
async fn reps_sign_only_for_their_own_organisation_once_and_never_when_ended() {
    let app = TestApp::spawn().await;
    let (a, rep_a) = branch(&app, "甲党支部", None).await;
    let (b, rep_b) = branch(&app, "乙党支部", None).await;
    let (_, outsider) = branch(&app, "丙党支部", None).await;
    let v = propose(&app, &rep_a, "甲乙共建", &[a, b], 0, 100).await;
    let id = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_code(
        &app.gql(Some(&rep_a), SIGN, json!({"a": id, "o": b.to_string()}))
            .await,
        "FORBIDDEN",
    );
    assert_code(
        &app.gql(Some(&outsider), SIGN, json!({"a": id})).await,
        "FORBIDDEN",
    );
    ok(&app.gql(Some(&rep_a), SIGN, json!({"a": id})).await);
    assert_code(
        &app.gql(Some(&rep_a), SIGN, json!({"a": id})).await,
        "CONFLICT",
    );
    // Terminated: no more signing.
    let v = app
        .gql(Some(&rep_a), "mutation($a: ID!) { terminateAgreement(input: {agreementId: $a, reason: \"合作方向调整\"}) { agreement { status terminationReason } } }", json!({"a": id}))
        .await;
    assert_eq!(
        ok(&v)["terminateAgreement"]["agreement"]["status"],
        "TERMINATED"
    );
    assert_code(
        &app.gql(Some(&rep_b), SIGN, json!({"a": id})).await,
        "INVALID_STATE",
    );
    // Expired (its term is over): no signing either.
    let v = propose(&app, &rep_a, "过期协议", &[a, b], -400, -35).await;
    let old = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(ok(&v)["proposeAgreement"]["agreement"]["status"], "EXPIRED");
    assert_code(
        &app.gql(Some(&rep_b), SIGN, json!({"a": old})).await,
        "INVALID_STATE",
    );
}

#[tokio::test]
async fn proposed_text_is_frozen_and_bad_terms_or_parties_are_refused() {
    let app = TestApp::spawn().await;
    let (a, rep_a) = branch(&app, "甲党支部", None).await;
    let (b, _) = branch(&app, "乙党支部", None).await;
    assert_code(
        &propose(&app, &rep_a, "倒置", &[a, b], 10, 5).await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &propose(&app, &rep_a, "独角戏", &[a], 0, 5).await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &propose(&app, &rep_a, "重复", &[a, a], 0, 5).await,
        "BAD_USER_INPUT",
    );
    let unit = organization::ActiveModel {
        name: Set("某公司".into()),
        kind: Set(OrganizationKind::Enterprise),
        parent_id: Set(None),
        community_id: Set(None),
        created_at: Set(api::core::clock::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("org");
    assert_code(
        &propose(&app, &rep_a, "非党组织", &[a, unit.id], 0, 5).await,
        "BAD_USER_INPUT",
    );

    let update = "mutation($a: ID!, $t: String!, $p: [ID!]!) { updateAgreementDraft(input: {agreementId: $a, text: {title: $t, kinds: [OTHER], partyIds: $p, commitments: [\"改后的承诺\"], startDate: \"2026-01-01\", endDate: \"2027-01-01\"}}) { agreement { title status commitments } } }";
    let parties = json!([a.to_string(), b.to_string()]);
    let v = propose(&app, &rep_a, "已提出", &[a, b], 0, 5).await;
    let proposed = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_code(
        &app.gql(
            Some(&rep_a),
            update,
            json!({"a": proposed, "t": "改标题", "p": parties}),
        )
        .await,
        "INVALID_STATE",
    );
    // The database itself refuses a change of a proposed agreement's text.
    let res = app
        .db()
        .execute_unprepared(&format!(
            "UPDATE agreements SET title = 'x' WHERE id = {proposed}"
        ))
        .await;
    assert!(
        res.is_err(),
        "the text of a proposed agreement is frozen in the database"
    );
    let v = app.gql(None, AGREEMENT, json!({"id": proposed})).await;
    assert_eq!(ok(&v)["agreement"]["title"], "已提出");

    // A draft can be edited, then proposed, then no more.
    let ids: Vec<String> = vec![a.to_string(), b.to_string()];
    let v = app
        .gql(
            Some(&rep_a),
            PROPOSE,
            json!({"t": "草稿", "k": ["OTHER"], "p": ids, "s": day(0), "e": day(30), "d": true}),
        )
        .await;
    let draft = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(ok(&v)["proposeAgreement"]["agreement"]["status"], "DRAFT");
    let v = app
        .gql(
            Some(&rep_a),
            update,
            json!({"a": draft, "t": "草稿二稿", "p": parties}),
        )
        .await;
    assert_eq!(
        ok(&v)["updateAgreementDraft"]["agreement"]["commitments"][0],
        "改后的承诺"
    );
    let v = app.gql(Some(&rep_a), "mutation($a: ID!) { submitAgreementDraft(input: {agreementId: $a}) { agreement { status title } } }", json!({"a": draft})).await;
    assert_eq!(
        ok(&v)["submitAgreementDraft"]["agreement"]["title"],
        "草稿二稿"
    );
    assert_code(
        &app.gql(
            Some(&rep_a),
            update,
            json!({"a": draft, "t": "三稿", "p": parties}),
        )
        .await,
        "INVALID_STATE",
    );
}

#[tokio::test]
async fn an_agreement_past_its_end_reads_expired_and_is_not_active_on_later_dates() {
    let app = TestApp::spawn().await;
    let (a, rep_a) = branch(&app, "甲党支部", None).await;
    let (b, rep_b) = branch(&app, "乙党支部", None).await;
    // Two agreements signed while in force.
    let v = propose(&app, &rep_a, "当前协议", &[a, b], -10, 10).await;
    let current = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app.gql(Some(&rep_a), SIGN, json!({"a": current})).await);
    ok(&app.gql(Some(&rep_b), SIGN, json!({"a": current})).await);
    let v = propose(&app, &rep_a, "已到期协议", &[a, b], -10, 10).await;
    let old = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app.gql(Some(&rep_a), SIGN, json!({"a": old})).await);
    ok(&app.gql(Some(&rep_b), SIGN, json!({"a": old})).await);
    // Time passes for the second one: its term ended yesterday. (The frozen-text trigger
    // only lets a DRAFT's dates change, so the test steps through DRAFT to move them.)
    let sql = format!(
        "UPDATE agreements SET status = 'DRAFT' WHERE id = {old}; UPDATE agreements SET start_date = '{}', end_date = '{}' WHERE id = {old}; UPDATE agreements SET status = 'SIGNED' WHERE id = {old}",
        day(-60),
        day(-1)
    );
    for stmt in sql.split("; ") {
        app.db()
            .execute_unprepared(stmt)
            .await
            .expect("move the term into the past");
    }
    let v = app.gql(None, AGREEMENT, json!({"id": old})).await;
    assert_eq!(ok(&v)["agreement"]["status"], "EXPIRED");
    let q = "query($d: Date) { agreements(activeOn: $d) { totalCount nodes { id } } }";
    let v = app.gql(None, q, json!({"d": day(0)})).await;
    let nodes: Vec<&str> = ok(&v)["agreements"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(nodes, [current.as_str()]);
    let v = app.gql(None, q, json!({"d": day(-5)})).await;
    assert_eq!(ok(&v)["agreements"]["totalCount"], 2);
    let v = app.gql(None, "{ e: agreements(status: EXPIRED) { totalCount } a: agreements(status: ACTIVE) { totalCount } }", json!({})).await;
    assert_eq!(ok(&v)["e"]["totalCount"], 1);
    assert_eq!(ok(&v)["a"]["totalCount"], 1);
    // An activity on a day the agreement was in force may still be recorded; not after its end.
    let record = "mutation($a: ID!, $d: Date!) { recordAgreementActivity(input: {agreementId: $a, heldOn: $d, title: \"活动\"}) { activity { id } } }";
    ok(&app
        .gql(Some(&rep_a), record, json!({"a": old, "d": day(-2)}))
        .await);
    assert_code(
        &app.gql(Some(&rep_a), record, json!({"a": old, "d": day(0)}))
            .await,
        "INVALID_STATE",
    );
}

#[tokio::test]
async fn statistics_match_the_rows_created() {
    let app = TestApp::spawn().await;
    let admin_token = {
        let (_, t) = app
            .quick_user(
                "boss",
                &[RoleGrant {
                    role: Role::Admin,
                    community_id: None,
                    grid_id: None,
                    organization_id: None,
                }],
            )
            .await;
        t
    };
    let street = app
        .gql(
            Some(&admin_token),
            "mutation { createStreet(input: {name: \"测试街道\"}) { street { id } } }",
            json!({}),
        )
        .await;
    ok(&street);
    let c1 = app
        .gql(
            Some(&admin_token),
            "mutation { createCommunity(input: {name: \"一社区\"}) { community { id } } }",
            json!({}),
        )
        .await;
    let c1: i64 = ok(&c1)["createCommunity"]["community"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("id");
    let c2 = app
        .gql(
            Some(&admin_token),
            "mutation { createCommunity(input: {name: \"二社区\"}) { community { id } } }",
            json!({}),
        )
        .await;
    let c2: i64 = ok(&c2)["createCommunity"]["community"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("id");
    let (a, rep_a) = branch(&app, "一社区党支部", Some(c1)).await;
    let (b, rep_b) = branch(&app, "学校党支部", None).await;
    let (c, rep_c) = branch(&app, "二社区党支部", Some(c2)).await;
    let sign_all = |id: String, reps: Vec<String>| {
        let app = &app;
        async move {
            for r in reps {
                ok(&app.gql(Some(&r), SIGN, json!({"a": id})).await);
            }
        }
    };
    // In community 1: one active (2 kinds), one proposed (2 kinds), one terminated.
    let v = propose(&app, &rep_a, "一·生效", &[a, b], -30, 300).await;
    let active = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    sign_all(active.clone(), vec![rep_a.clone(), rep_b.clone()]).await;
    propose(&app, &rep_a, "一·待签", &[a, b], 0, 300).await;
    let v = propose(&app, &rep_a, "一·终止", &[a, b], 0, 300).await;
    let ended = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app.gql(Some(&rep_a), "mutation($a: ID!) { terminateAgreement(input: {agreementId: $a, reason: \"调整\"}) { agreement { id } } }", json!({"a": ended})).await);
    // In community 2 only: one active.
    let v = propose(&app, &rep_c, "二·生效", &[c, b], -30, 300).await;
    let other = ok(&v)["proposeAgreement"]["agreement"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    sign_all(other, vec![rep_c.clone(), rep_b.clone()]).await;
    // Activities under the active agreement of community 1: two this month, one 20 days ago.
    for (d, t) in [(0, "甲"), (0, "乙"), (-20, "丙")] {
        let v = app
            .gql(Some(&rep_a), "mutation($a: ID!, $d: Date!, $t: String!) { recordAgreementActivity(input: {agreementId: $a, heldOn: $d, title: $t, participants: 5}) { activity { id } } }", json!({"a": active, "d": day(d), "t": t}))
            .await;
        ok(&v);
    }
    // An alliance in community 1 with one unit member.
    let unit = organization::ActiveModel {
        name: Set("一社区超市".into()),
        kind: Set(OrganizationKind::Enterprise),
        parent_id: Set(None),
        community_id: Set(Some(c1)),
        created_at: Set(api::core::clock::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("unit");
    let v = app
        .gql(Some(&admin_token), "mutation($l: ID!, $c: ID) { createAlliance(input: {name: \"一社区联盟\", leadOrganizationId: $l, scope: COMMUNITY, communityId: $c}) { alliance { id } } }", json!({"l": a.to_string(), "c": c1.to_string()}))
        .await;
    let alliance = ok(&v)["createAlliance"]["alliance"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let add = "mutation($al: ID!, $o: ID!) { addAllianceMember(input: {allianceId: $al, organizationId: $o}) { alliance { memberCount members(includeFormer: true) { organization { id } current } } } }";
    let v = app
        .gql(
            Some(&rep_a),
            add,
            json!({"al": alliance, "o": unit.id.to_string()}),
        )
        .await;
    assert_eq!(ok(&v)["addAllianceMember"]["alliance"]["memberCount"], 2);
    assert_code(
        &app.gql(
            Some(&rep_a),
            add,
            json!({"al": alliance, "o": unit.id.to_string()}),
        )
        .await,
        "CONFLICT",
    );

    let q = "query($c: ID) { agreementStatistics(communityId: $c) { byKind { kind count } byStatus { status count } activeAlliances memberUnits activitiesPerMonth { month count } } }";
    let v = app.gql(None, q, json!({"c": c1.to_string()})).await;
    let s = &ok(&v)["agreementStatistics"];
    let count = |list: &Value, key: &str, value: &str| {
        list.as_array()
            .and_then(|a| a.iter().find(|x| x[key] == value))
            .map(|x| x["count"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    };
    assert_eq!(count(&s["byKind"], "kind", "JOINT_ACTIVITIES"), 3);
    assert_eq!(count(&s["byKind"], "kind", "MUTUAL_SERVICE"), 3);
    assert_eq!(count(&s["byStatus"], "status", "ACTIVE"), 1);
    assert_eq!(count(&s["byStatus"], "status", "PROPOSED"), 1);
    assert_eq!(count(&s["byStatus"], "status", "TERMINATED"), 1);
    assert_eq!(count(&s["byStatus"], "status", "EXPIRED"), 0);
    assert_eq!(s["activeAlliances"], 1);
    assert_eq!(s["memberUnits"], 1);
    let this_month = api::core::validate::today().format("%Y-%m").to_string();
    let earlier = (api::core::validate::today() - chrono::Duration::days(20))
        .format("%Y-%m")
        .to_string();
    let total: u64 = s["activitiesPerMonth"]
        .as_array()
        .expect("months")
        .iter()
        .map(|m| m["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 3);
    if this_month != earlier {
        assert_eq!(count(&s["activitiesPerMonth"], "month", &this_month), 2);
        assert_eq!(count(&s["activitiesPerMonth"], "month", &earlier), 1);
    }
    // Street-wide: both communities' agreements.
    let v = app
        .gql(
            None,
            "{ agreementStatistics { byStatus { status count } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        count(
            &ok(&v)["agreementStatistics"]["byStatus"],
            "status",
            "ACTIVE"
        ),
        2
    );
}

#[tokio::test]
async fn listing_100_agreements_runs_as_many_statements_as_listing_10() {
    let app = TestApp::spawn().await;
    let mut parties = Vec::new();
    for i in 0..4 {
        parties.push(branch(&app, &format!("党支部{i}"), None).await);
    }
    for i in 0..105 {
        let (x, y) = (i % 4, (i + 1) % 4);
        let v = propose(
            &app,
            &parties[x].1,
            &format!("协议{i}"),
            &[parties[x].0, parties[y].0],
            -1,
            100,
        )
        .await;
        let id = ok(&v)["proposeAgreement"]["agreement"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        if i % 2 == 0 {
            ok(&app.gql(Some(&parties[x].1), SIGN, json!({"a": id})).await);
        }
    }
    let q = "query($n: Int!) { agreements(first: $n) { totalCount nodes { title status kinds parties { name community { name } } signatures { organization { name } signer { displayName } signedAt } alliance { name lead { name } } activities { title } } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let (count, v) = app.statements_of(None, q, json!({"n": n})).await;
        assert_eq!(
            ok(&v)["agreements"]["nodes"].as_array().map(Vec::len),
            Some(n)
        );
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 agreements: {counts:?}"
    );
}
