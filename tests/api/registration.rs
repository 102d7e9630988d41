use api::account::rules::RoleGrant;
use entity::role_assignment::Role;
use serde_json::json;

use crate::helpers::{TestApp, assert_code, error_code, ok};

const REGISTER: &str = "mutation($c: ID!, $g: ID) { registerToGrid(input: {communityId: $c, gridId: $g, homeOrganizationName: \"南京某公司党支部\", serviceKinds: [\"政策宣传\", \"邻里互助\"]}) { registration { id status serviceKinds community { name } grid { name } member { username } } } }";
const REVIEW: &str = "mutation($r: ID!, $d: ReviewDecision!, $g: ID, $reason: String) { reviewGridRegistration(input: {registrationId: $r, decision: $d, gridId: $g, reason: $reason}) { registration { status reviewReason grid { name registeredMemberCount } reviewedBy { username } } } }";
const WITHDRAW: &str = "mutation($r: ID!) { withdrawGridRegistration(input: {registrationId: $r, reason: \"搬家\"}) { registration { status } } }";

async fn new_member(app: &TestApp, name: &str) -> String {
    app.create_user_with(
        name,
        &[RoleGrant {
            role: Role::PartyMember,
            community_id: None,
            grid_id: None,
            organization_id: None,
        }],
    )
    .await
}

#[tokio::test]
async fn registration_is_reviewed_withdrawn_and_counted_per_grid() {
    let app = TestApp::with_demo().await;
    let huitong = app.community_id("汇通社区").await;
    let ht2 = app.grid_id("汇通第二网格").await;
    let member = new_member(&app, "newmember").await;
    let v = app
        .gql(Some(&member), REGISTER, json!({"c": huitong, "g": ht2}))
        .await;
    let reg = &ok(&v)["registerToGrid"]["registration"];
    assert_eq!(reg["status"], "PENDING");
    assert_eq!(reg["serviceKinds"], json!(["政策宣传", "邻里互助"]));
    let reg_id = reg["id"].as_str().expect("id").to_owned();

    // Staff of another community cannot approve it; staff of 汇通 can.
    let wz = app.login("wz-staff").await;
    let v = app
        .gql(Some(&wz), REVIEW, json!({"r": reg_id, "d": "APPROVE"}))
        .await;
    assert_code(&v, "FORBIDDEN");
    let staff = app.login("staff").await;
    // Rejecting needs a reason.
    let v = app
        .gql(Some(&staff), REVIEW, json!({"r": reg_id, "d": "REJECT"}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    // A grid of another community is refused.
    let wz1 = app.grid_id("文宗第一网格").await;
    let v = app
        .gql(
            Some(&staff),
            REVIEW,
            json!({"r": reg_id, "d": "APPROVE", "g": wz1}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    let v = app
        .gql(Some(&staff), REVIEW, json!({"r": reg_id, "d": "APPROVE"}))
        .await;
    let r = &ok(&v)["reviewGridRegistration"]["registration"];
    assert_eq!(r["status"], "APPROVED");
    assert_eq!(r["grid"]["name"], "汇通第二网格");
    assert_eq!(r["grid"]["registeredMemberCount"], 1);
    assert_eq!(r["reviewedBy"]["username"], "staff");
    // Reviewing twice is an invalid state.
    let v = app
        .gql(Some(&staff), REVIEW, json!({"r": reg_id, "d": "APPROVE"}))
        .await;
    assert_code(&v, "INVALID_STATE");

    // The grid lists its registered members as the registration policy shows them: to staff
    // of the community (not to staff of another, who see an empty list, as from the root).
    let q = "query($g: ID!) { grid(id: $g) { registeredMemberCount registeredMembers { totalCount nodes { member { username } } } } }";
    let v = app.gql(Some(&staff), q, json!({"g": ht2})).await;
    assert_eq!(
        ok(&v)["grid"]["registeredMembers"]["nodes"][0]["member"]["username"],
        "newmember"
    );
    let v = app.gql(Some(&wz), q, json!({"g": ht2})).await;
    assert_eq!(ok(&v)["grid"]["registeredMembers"]["totalCount"], 0);
    assert_eq!(ok(&v)["grid"]["registeredMemberCount"], 1);

    // Withdrawing ends it and frees the member to register again.
    let v = app.gql(Some(&member), WITHDRAW, json!({"r": reg_id})).await;
    assert_eq!(
        ok(&v)["withdrawGridRegistration"]["registration"]["status"],
        "WITHDRAWN"
    );
    let v = app.gql(Some(&member), WITHDRAW, json!({"r": reg_id})).await;
    assert_code(&v, "INVALID_STATE");
    let v = app
        .gql(
            None,
            "query($g: ID!) { grid(id: $g) { registeredMemberCount } }",
            json!({"g": ht2}),
        )
        .await;
    assert_eq!(ok(&v)["grid"]["registeredMemberCount"], 0);
    let v = app
        .gql(Some(&member), REGISTER, json!({"c": huitong}))
        .await;
    let again = ok(&v)["registerToGrid"]["registration"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let v = app
        .gql(
            Some(&staff),
            REVIEW,
            json!({"r": again, "d": "REJECT", "reason": "不在本社区居住"}),
        )
        .await;
    let r = &ok(&v)["reviewGridRegistration"]["registration"];
    assert_eq!(r["status"], "REJECTED");
    assert_eq!(r["reviewReason"], "不在本社区居住");

    // Listing: staff see their community, members their own.
    let v = app
        .gql(
            Some(&staff),
            "{ gridRegistrations(status: PENDING) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["gridRegistrations"]["totalCount"], 1); // member2's
    let v = app
        .gql(
            Some(&member),
            "{ gridRegistrations { totalCount nodes { status } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["gridRegistrations"]["totalCount"], 2);
    assert_eq!(
        ok(&v)["gridRegistrations"]["nodes"][0]["status"],
        "REJECTED"
    );
    let v = app
        .gql(Some(&wz), "{ gridRegistrations { totalCount } }", json!({}))
        .await;
    assert_eq!(ok(&v)["gridRegistrations"]["totalCount"], 0);
    let v = app
        .gql(None, "{ gridRegistrations { totalCount } }", json!({}))
        .await;
    assert_code(&v, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_second_open_registration_is_a_conflict() {
    let app = TestApp::with_demo().await;
    let huitong = app.community_id("汇通社区").await;
    // member1 already has an approved registration.
    let member1 = app.login("member1").await;
    let v = app
        .gql(Some(&member1), REGISTER, json!({"c": huitong}))
        .await;
    assert_code(&v, "CONFLICT");
}

#[tokio::test]
async fn twenty_concurrent_registrations_make_exactly_one() {
    let app = TestApp::with_demo().await;
    let huitong = app.community_id("汇通社区").await;
    let member = new_member(&app, "racer").await;
    let results = futures::future::join_all(
        (0..20).map(|_| app.gql(Some(&member), REGISTER, json!({"c": huitong}))),
    )
    .await;
    let wins = results.iter().filter(|v| v.get("errors").is_none()).count();
    let conflicts = results
        .iter()
        .filter(|v| error_code(v) == Some("CONFLICT"))
        .count();
    assert_eq!((wins, conflicts), (1, 19), "{results:?}");
    let v = app
        .gql(
            Some(&member),
            "{ gridRegistrations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["gridRegistrations"]["totalCount"], 1);
}
