//! Authorization sweep: every mutation refuses an anonymous caller (`UNAUTHENTICATED`) and a
//! caller of the wrong role or scope (`FORBIDDEN`). A mutation added to the schema without a
//! row here fails `every_mutation_is_covered`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, ok};

/// Mutations that need no login.
/// Mutations that prove the caller themselves (a password, a refresh token, a WeChat code
/// or ticket): no bearer token is asked for (tests/api/sessions.rs covers them).
const PUBLIC: &[&str] = &[
    "login",
    "refreshToken",
    "logout",
    "loginWithWeChat",
    "bindWeChat",
];

struct Case {
    mutation: &'static str,
    query: String,
    variables: Value,
    /// Demo accounts that must get FORBIDDEN.
    forbidden_for: Vec<&'static str>,
}

async fn cases(app: &TestApp) -> Vec<Case> {
    let huitong = app.community_id("汇通社区").await;
    let wenzong = app.community_id("文宗社区").await;
    let wz1 = app.grid_id("文宗第一网格").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let admin = app.login("admin").await;
    let wz_post = app
        .gql(
            Some(&admin),
            "query($id: ID!) { grid(id: $id) { staff { id } } }",
            json!({"id": wz1}),
        )
        .await["data"]["grid"]["staff"][0]["id"]
        .as_str()
        .expect("post")
        .to_owned();
    let regs = app
        .gql(
            Some(&admin),
            "{ gridRegistrations { nodes { id status } } }",
            json!({}),
        )
        .await;
    let reg_id = |status: &str| {
        regs["data"]["gridRegistrations"]["nodes"]
            .as_array()
            .and_then(|a| a.iter().find(|n| n["status"] == status))
            .and_then(|n| n["id"].as_str())
            .expect("registration")
            .to_owned()
    };
    let pending = reg_id("PENDING");
    let resident_id = app.user_id(&app.login("resident1").await).await;
    let approved = reg_id("APPROVED");
    let wz_staff = app.gql(Some(&admin), "{ me { id } }", json!({})).await;
    let user_id = wz_staff["data"]["me"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let shifts = app
        .gql(
            None,
            "{ shifts(slotId: \"1\", first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    let future_shift = shifts["data"]["shifts"]["nodes"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|n| n["id"].as_str())
        .expect("shift")
        .to_owned();
    let people = app
        .gql(
            Some(&admin),
            "{ users(first: 100) { nodes { id roleHistory { id role } } } }",
            json!({}),
        )
        .await;
    let resident_grant = people["data"]["users"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["id"] == resident_id.as_str()))
        .and_then(|u| u["roleHistory"][0]["id"].as_str())
        .expect("resident grant")
        .to_owned();
    // An incident in each state a step starts from, in 汇通第一网格, dispatched to the power
    // branch where it has been dispatched.
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let orgs = app
        .gql(
            Some(&admin),
            "{ organizations(first: 100) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let power = orgs["data"]["organizations"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "仙林供电所党支部"))
        .and_then(|o| o["id"].as_str())
        .expect("power branch")
        .to_owned();
    let incident = |steps: &'static [&'static str]| {
        let (app, grid, staff, power, ht1) = (
            &app,
            grid.clone(),
            staff.clone(),
            power.clone(),
            ht1.clone(),
        );
        async move {
            let v = app
                .gql(Some(&grid), "mutation($g: ID!) { reportIncident(input: {gridId: $g, location: \"楼下\", category: PAIN, subject: SAFETY, description: \"路灯坏了\"}) { incident { id } } }", json!({"g": ht1}))
                .await;
            let id = v["data"]["reportIncident"]["incident"]["id"]
                .as_str()
                .expect("incident")
                .to_owned();
            for s in steps {
                let (token, q) = match *s {
                    "whistle" => (
                        &grid,
                        "mutation($i: ID!) { whistleIncident(input: {incidentId: $i, note: \"吹哨\"}) { incident { id } } }",
                    ),
                    "dispatch" => (
                        &staff,
                        "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { id } } }",
                    ),
                    "accept" => (
                        &app.login("rep-power").await,
                        "mutation($i: ID!) { acceptIncident(input: {incidentId: $i}) { incident { id } } }",
                    ),
                    _ => (
                        &app.login("rep-power").await,
                        "mutation($i: ID!) { handleIncident(input: {incidentId: $i, result: \"办结\"}) { incident { id } } }",
                    ),
                };
                let token = token.clone();
                let vars = if *s == "dispatch" {
                    json!({"i": id, "o": power})
                } else {
                    json!({"i": id})
                };
                let v = app.gql(Some(&token), q, vars).await;
                assert!(v["errors"].is_null(), "{v}");
            }
            id
        }
    };
    let reported_incident = incident(&[]).await;
    let whistled_incident = incident(&["whistle"]).await;
    let dispatched_incident = incident(&["whistle", "dispatch"]).await;
    let accepted_incident = incident(&["whistle", "dispatch", "accept"]).await;
    let handled_incident = incident(&["whistle", "dispatch", "accept", "handle"]).await;
    let agreements = app
        .gql(
            Some(&admin),
            "{ agreements(first: 100) { nodes { id title } } }",
            json!({}),
        )
        .await;
    let power_agreement = agreements["data"]["agreements"]["nodes"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|n| n["title"] == "文宗社区党委—仙林供电所党支部共建共享协议")
        })
        .and_then(|n| n["id"].as_str())
        .expect("agreement")
        .to_owned();
    vec![
        Case {
            mutation: "adoptIncidentAsProject",
            query: "mutation($i: ID!, $a: ID!) { adoptIncidentAsProject(input: {incidentId: $i, agreementId: $a}) { activity { id } } }".into(),
            variables: json!({"i": handled_incident, "a": power_agreement}),
            forbidden_for: vec!["grid"],
        },
        Case {
            mutation: "logPatrol",
            query: "mutation($g: ID!) { logPatrol(input: {gridId: $g, householdsVisited: 3, checklist: []}) { patrol { id } } }".into(),
            variables: json!({"g": ht1}),
            forbidden_for: vec!["resident1", "member1", "staff", "wz-staff", "rep-power", "wz1-leader"],
        },
        Case {
            mutation: "reportIncident",
            query: "mutation($g: ID!) { reportIncident(input: {gridId: $g, location: \"楼下\", category: PAIN, subject: SAFETY, description: \"越权上报\"}) { incident { id } } }".into(),
            variables: json!({"g": ht1}),
            forbidden_for: vec!["resident1", "member1", "staff", "wz-staff", "rep-power", "wz1-leader"],
        },
        Case {
            mutation: "resolveIncidentOnSite",
            query: "mutation($i: ID!) { resolveIncidentOnSite(input: {incidentId: $i, note: \"越权\"}) { incident { id } } }".into(),
            variables: json!({"i": reported_incident}),
            forbidden_for: vec!["staff", "admin"],
        },
        Case {
            mutation: "whistleIncident",
            query: "mutation($i: ID!) { whistleIncident(input: {incidentId: $i, note: \"越权\"}) { incident { id } } }".into(),
            variables: json!({"i": reported_incident}),
            forbidden_for: vec!["staff", "admin"],
        },
        Case {
            mutation: "dispatchIncident",
            query: "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { id } } }".into(),
            variables: json!({"i": whistled_incident, "o": power}),
            forbidden_for: vec!["grid"],
        },
        Case {
            mutation: "acceptIncident",
            query: "mutation($i: ID!) { acceptIncident(input: {incidentId: $i}) { incident { id } } }".into(),
            variables: json!({"i": dispatched_incident}),
            forbidden_for: vec!["grid", "staff", "admin"],
        },
        Case {
            mutation: "handleIncident",
            query: "mutation($i: ID!) { handleIncident(input: {incidentId: $i, result: \"越权\"}) { incident { id } } }".into(),
            variables: json!({"i": accepted_incident}),
            forbidden_for: vec!["grid", "staff", "admin"],
        },
        Case {
            mutation: "closeIncident",
            query: "mutation($i: ID!) { closeIncident(input: {incidentId: $i, rating: 5}) { incident { id } } }".into(),
            variables: json!({"i": handled_incident}),
            forbidden_for: vec!["staff", "admin", "rep-power"],
        },
        Case {
            mutation: "reopenIncident",
            query: "mutation($i: ID!) { reopenIncident(input: {incidentId: $i, note: \"越权\"}) { incident { id } } }".into(),
            variables: json!({"i": handled_incident}),
            forbidden_for: vec!["staff", "admin", "rep-power"],
        },
        Case {
            mutation: "grantRole",
            query: "mutation($u: ID!, $c: ID!) { grantRole(input: {userId: $u, role: PARTY_MEMBER, communityId: $c}) { grant { id } } }".into(),
            variables: json!({"u": resident_id, "c": huitong}),
            forbidden_for: vec!["resident1", "member1", "grid", "wz-staff", "rep-school"],
        },
        Case {
            mutation: "revokeRole",
            query: "mutation($g: ID!) { revokeRole(input: {grantId: $g, reason: \"越权撤销\"}) { grant { id } } }".into(),
            variables: json!({"g": resident_grant}),
            forbidden_for: vec!["resident1", "member1", "grid", "wz-staff", "student1"],
        },
        Case {
            mutation: "importPeople",
            query: "mutation($in: ImportPeopleInput!) { importPeople(input: $in) { created } }".into(),
            variables: json!({"in": {"communityId": huitong, "file": null}}),
            forbidden_for: vec!["resident1", "member1", "grid", "wz-staff", "rep-school"],
        },
        Case {
            mutation: "erasePersonalData",
            query: "mutation($u: ID!) { erasePersonalData(input: {userId: $u, reason: \"越权删除\"}) { user { id } } }".into(),
            variables: json!({"u": resident_id}),
            forbidden_for: vec!["resident1", "member1", "grid", "staff", "wz-staff"],
        },
        Case {
            mutation: "createStreet",
            query: "mutation { createStreet(input: {name: \"新街道\"}) { street { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["staff", "resident1"],
        },
        Case {
            mutation: "createCommunity",
            query: "mutation { createCommunity(input: {name: \"新社区\"}) { community { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["staff", "grid", "member1"],
        },
        Case {
            mutation: "createGrid",
            query: "mutation($c: ID!) { createGrid(input: {communityId: $c, name: \"越权网格\", kind: COMPREHENSIVE, households: 10}) { grid { id } } }".into(),
            variables: json!({"c": wenzong}),
            forbidden_for: vec!["staff", "grid", "resident1"],
        },
        Case {
            mutation: "assignGridStaff",
            query: "mutation($g: ID!, $u: ID!) { assignGridStaff(input: {gridId: $g, userId: $u, role: WORKER}) { staff { id } } }".into(),
            variables: json!({"g": wz1, "u": user_id}),
            forbidden_for: vec!["staff", "grid", "member1"],
        },
        Case {
            mutation: "endGridStaff",
            query: "mutation($s: ID!) { endGridStaff(input: {staffId: $s}) { staff { id } } }".into(),
            variables: json!({"s": wz_post}),
            forbidden_for: vec!["staff", "grid", "resident1"],
        },
        Case {
            mutation: "createOrganization",
            query: "mutation($c: ID) { createOrganization(input: {name: \"越权组织\", kind: BRANCH, communityId: $c}) { organization { id } } }".into(),
            variables: json!({"c": wenzong}),
            forbidden_for: vec!["staff", "rep-power", "resident1"],
        },
        Case {
            mutation: "createUser",
            query: "mutation($c: ID!) { createUser(input: {username: \"newbie\", password: \"password-123\", displayName: \"新人\", roles: [{role: RESIDENT, communityId: $c}]}) { user { id } } }".into(),
            variables: json!({"c": wenzong}),
            forbidden_for: vec!["staff", "grid", "resident1", "rep-school"],
        },
        Case {
            mutation: "registerToGrid",
            query: "mutation($c: ID!) { registerToGrid(input: {communityId: $c, homeOrganizationName: \"某单位党支部\", serviceKinds: [\"政策宣传\"]}) { registration { id } } }".into(),
            variables: json!({"c": huitong}),
            forbidden_for: vec!["resident1", "staff", "rep-power"],
        },
        Case {
            mutation: "reviewGridRegistration",
            query: "mutation($r: ID!, $g: ID) { reviewGridRegistration(input: {registrationId: $r, decision: APPROVE, gridId: $g}) { registration { id } } }".into(),
            variables: json!({"r": pending, "g": ht1}),
            forbidden_for: vec!["wz-staff", "grid", "member2", "member1"],
        },
        Case {
            mutation: "withdrawGridRegistration",
            query: "mutation($r: ID!) { withdrawGridRegistration(input: {registrationId: $r}) { registration { id } } }".into(),
            variables: json!({"r": approved}),
            forbidden_for: vec!["member2", "staff", "grid"],
        },
        // Wishes (demo: 1 published, 2 claimed by member1, 3 confirmed, 5 pending review).
        Case {
            mutation: "submitWish",
            query: "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"越权心愿\", description: \"x\", category: GOODS}) { wish { id } } }".into(),
            variables: json!({"g": wz1}),
            forbidden_for: vec!["resident1", "member1", "grid"],
        },
        Case {
            mutation: "reviewWish",
            query: "mutation { reviewWish(input: {wishId: \"5\", decision: PUBLISH}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["wz-staff", "grid", "resident1"],
        },
        Case {
            mutation: "claimWish",
            query: "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["resident1", "staff", "grid"],
        },
        Case {
            mutation: "releaseWishClaim",
            query: "mutation { releaseWishClaim(input: {wishId: \"2\", reason: \"有事\"}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member2", "staff"],
        },
        Case {
            mutation: "fulfillWish",
            query: "mutation { fulfillWish(input: {wishId: \"2\", note: \"已完成\"}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member2", "grid"],
        },
        Case {
            mutation: "confirmWish",
            query: "mutation { confirmWish(input: {wishId: \"2\", rating: 5}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member2", "resident1", "wz-staff"],
        },
        Case {
            mutation: "cancelWish",
            query: "mutation { cancelWish(input: {wishId: \"1\"}) { wish { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member1", "wz-staff", "grid"],
        },
        // Moral bank (demo: passbooks 1 member2, 2 resident1, 3 member1; good deed 3 pending).
        Case {
            mutation: "openPassbook",
            query: "mutation($c: ID!, $u: ID!) { openPassbook(input: {holderId: $u, communityId: $c}) { passbook { id } } }".into(),
            variables: json!({"c": huitong, "u": "12"}),
            forbidden_for: vec!["wz-staff", "grid", "member1"],
        },
        Case {
            mutation: "reportGoodDeed",
            query: "mutation { reportGoodDeed(input: {holderId: \"14\", categoryId: \"1\", description: \"x\", occurredOn: \"2026-11-01\"}) { goodDeed { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member1", "wz-staff"],
        },
        Case {
            mutation: "reviewGoodDeed",
            query: "mutation { reviewGoodDeed(input: {goodDeedId: \"3\", decision: APPROVE}) { goodDeed { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["wz-staff", "grid", "resident1"],
        },
        Case {
            mutation: "createReward",
            query: "mutation($c: ID!) { createReward(input: {communityId: $c, name: \"越权奖品\", cost: 1, stock: 1}) { reward { id } } }".into(),
            variables: json!({"c": huitong}),
            forbidden_for: vec!["wz-staff", "resident1", "grid"],
        },
        Case {
            mutation: "adjustRewardStock",
            query: "mutation { adjustRewardStock(input: {rewardId: \"1\", delta: 5}) { reward { stock } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["wz-staff", "resident1", "grid"],
        },
        Case {
            mutation: "redeemReward",
            query: "mutation { redeemReward(input: {rewardId: \"1\", quantity: 1}) { redemption { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["staff", "grid"],
        },
        Case {
            mutation: "reverseLedgerEntry",
            query: "mutation { reverseLedgerEntry(input: {entryId: \"1\", reason: \"误操作\"}) { reversal { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["wz-staff", "member2", "grid"],
        },
        // Alliances and agreements (demo: alliance 1 led by the street committee (org 1);
        // agreement 1 汇通居民党支部 (3) + 学生党支部 (7), ACTIVE; 2 文宗党委 (4) + 供电所党支部 (9),
        // ACTIVE; 3 汇通党委 (2) + 供电所党支部 (9), PROPOSED).
        Case {
            mutation: "createAlliance",
            query: "mutation($c: ID) { createAlliance(input: {name: \"越权联盟\", leadOrganizationId: \"4\", scope: COMMUNITY, communityId: $c}) { alliance { id } } }".into(),
            variables: json!({"c": wenzong}),
            forbidden_for: vec!["staff", "rep-wenzong", "resident1"],
        },
        Case {
            mutation: "addAllianceMember",
            query: "mutation { addAllianceMember(input: {allianceId: \"1\", organizationId: \"5\"}) { member { current } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-power", "staff", "member1"],
        },
        Case {
            mutation: "leaveAlliance",
            query: "mutation { leaveAlliance(input: {allianceId: \"1\", organizationId: \"10\"}) { member { current } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-power", "staff"],
        },
        Case {
            mutation: "proposeAgreement",
            query: "mutation { proposeAgreement(input: {title: \"越权协议\", kinds: [OTHER], partyIds: [\"5\", \"1\"], commitments: [\"x\"], startDate: \"2026-01-01\", endDate: \"2026-12-31\"}) { agreement { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-school", "staff", "resident1"],
        },
        Case {
            mutation: "updateAgreementDraft",
            query: "mutation { updateAgreementDraft(input: {agreementId: \"3\", text: {title: \"改\", kinds: [OTHER], partyIds: [\"2\", \"9\"], commitments: [\"x\"], startDate: \"2026-01-01\", endDate: \"2026-12-31\"}}) { agreement { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-school", "member1"],
        },
        Case {
            mutation: "submitAgreementDraft",
            query: "mutation { submitAgreementDraft(input: {agreementId: \"3\"}) { agreement { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-school", "member1"],
        },
        Case {
            mutation: "signAgreement",
            query: "mutation { signAgreement(input: {agreementId: \"3\"}) { agreement { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-school", "resident1", "staff"],
        },
        Case {
            mutation: "terminateAgreement",
            query: "mutation { terminateAgreement(input: {agreementId: \"1\", reason: \"越权\"}) { agreement { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["rep-power", "staff", "member1"],
        },
        Case {
            mutation: "recordAgreementActivity",
            query: "mutation { recordAgreementActivity(input: {agreementId: \"2\", heldOn: \"2026-11-01\", title: \"越权活动\"}) { activity { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["staff", "rep-school", "resident1"],
        },
        // Schedules (demo: slot 1 at 汇通, grid 汇通第一网格; sign-up 4 is student1's next shift).
        Case {
            mutation: "createServiceSlot",
            query: "mutation($c: ID!) { createServiceSlot(input: {communityId: $c, title: \"越权排班\", weekday: 3, startTime: \"14:00\", endTime: \"17:00\", capacity: 3, validFrom: \"2026-12-01\", validTo: \"2026-12-31\"}) { slot { id } } }".into(),
            variables: json!({"c": wenzong}),
            forbidden_for: vec!["staff", "student1", "grid"],
        },
        Case {
            mutation: "updateServiceSlot",
            query: "mutation { updateServiceSlot(input: {slotId: \"1\", capacity: 10}) { slot { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["wz-staff", "grid", "student1"],
        },
        Case {
            mutation: "signUpForShift",
            query: "mutation($s: ID!) { signUpForShift(input: {shiftId: $s}) { signup { id } } }".into(),
            variables: json!({"s": future_shift}),
            forbidden_for: vec!["resident1", "member1", "staff"],
        },
        Case {
            mutation: "signUpForSeries",
            query: "mutation { signUpForSeries(input: {slotId: \"1\"}) { takenCount } }".into(),
            variables: json!({}),
            forbidden_for: vec!["resident1", "staff"],
        },
        Case {
            mutation: "cancelShiftSignup",
            query: "mutation { cancelShiftSignup(input: {signupId: \"4\"}) { signup { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member1", "staff", "grid"],
        },
        Case {
            mutation: "checkIn",
            query: "mutation { checkIn(input: {signupId: \"4\"}) { signup { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member1", "wz-staff", "student1", "wz1-leader"],
        },
        Case {
            mutation: "checkOut",
            query: "mutation { checkOut(input: {signupId: \"4\"}) { signup { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["member1", "student1", "wz-staff"],
        },
        Case {
            mutation: "markNoShow",
            query: "mutation { markNoShow(input: {signupId: \"4\"}) { signup { id } } }".into(),
            variables: json!({}),
            forbidden_for: vec!["resident1", "student1", "ht2-leader"],
        },
        Case {
            mutation: "changePassword",
            query: "mutation { changePassword(input: {oldPassword: \"lianxin-demo\", newPassword: \"Changed-pass-1\"}) { token } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "unbindWeChat",
            query: "mutation { unbindWeChat { at } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "markNotificationsRead",
            query: "mutation { markNotificationsRead(input: {all: true}) { marked unreadCount } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "updateNotificationPreferences",
            query: "mutation { updateNotificationPreferences(input: {quietStart: \"23:00\"}) { quietStart } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "recordWeChatConsent",
            query: "mutation { recordWeChatConsent(input: {templateIds: [\"tmpl-1\"]}) { consents { templateId remaining } } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "logoutEverywhere",
            query: "mutation { logoutEverywhere { at } }".into(),
            variables: json!({}),
            forbidden_for: vec![],
        },
        Case {
            mutation: "resetPassword",
            query: "mutation($id: ID!) { resetPassword(input: {userId: $id, newPassword: \"Temp-pass-1\"}) { user { id } } }".into(),
            variables: json!({"id": resident_id}),
            forbidden_for: vec!["resident1", "member1", "grid", "wz-staff", "rep-school"],
        },
        Case {
            mutation: "deactivateUser",
            query: "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }".into(),
            variables: json!({"id": resident_id}),
            forbidden_for: vec!["resident1", "member1", "grid", "wz-staff", "student1"],
        },
        Case {
            mutation: "reactivateUser",
            query: "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id } } }".into(),
            variables: json!({"id": resident_id}),
            forbidden_for: vec!["member1", "grid", "wz-staff"],
        },
        Case {
            mutation: "rotateCalendarToken",
            query: "mutation { rotateCalendarToken { token path } }".into(),
            variables: json!({}),
            forbidden_for: vec!["resident1", "staff"],
        },
    ]
}

async fn mutation_names(app: &TestApp) -> Vec<String> {
    let v = app
        .gql(
            None,
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
        )
        .await;
    ok(&v)["__schema"]["mutationType"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn every_mutation_is_covered() {
    let app = TestApp::with_demo().await;
    let covered: Vec<&str> = cases(&app).await.iter().map(|c| c.mutation).collect();
    let names = mutation_names(&app).await;
    assert!(names.len() >= 11, "{names:?}");
    for name in names {
        assert!(
            PUBLIC.contains(&name.as_str()) || covered.contains(&name.as_str()),
            "mutation {name} has no authorization case in tests/api/access.rs"
        );
    }
}

#[tokio::test]
async fn every_mutation_refuses_anonymous_and_wrong_roles() {
    let app = TestApp::with_demo().await;
    let mut tokens = std::collections::HashMap::new();
    for case in cases(&app).await {
        // A file upload goes as a multipart request, everything else as JSON.
        let send = |token: Option<String>| {
            let app = &app;
            let case = &case;
            async move {
                if case.mutation == "importPeople" {
                    let file = "用户名,姓名,身份\nsweep,越权,居民\n".as_bytes();
                    app.gql_upload(
                        token.as_deref(),
                        &case.query,
                        case.variables.clone(),
                        "variables.in.file",
                        "people.csv",
                        file,
                    )
                    .await
                } else {
                    app.gql(token.as_deref(), &case.query, case.variables.clone())
                        .await
                }
            }
        };
        let anon = send(None).await;
        assert_eq!(
            error_code(&anon),
            Some("UNAUTHENTICATED"),
            "{} as anonymous: {anon}",
            case.mutation
        );
        assert!(anon["data"].is_null() || anon["data"][case.mutation].is_null());
        for who in &case.forbidden_for {
            if !tokens.contains_key(who) {
                tokens.insert(*who, app.login(who).await);
            }
            let v = send(Some(tokens[who].clone())).await;
            assert_eq!(
                error_code(&v),
                Some("FORBIDDEN"),
                "{} as {who}: {v}",
                case.mutation
            );
        }
    }
    // Nothing was created by the refused calls.
    let admin = app.login("admin").await;
    let v = app
        .gql(Some(&admin), "{ grids(first: 100) { totalCount } streets { totalCount } organizations(first: 100) { totalCount } }", json!({}))
        .await;
    let d = ok(&v);
    assert_eq!(d["grids"]["totalCount"], 9);
    assert_eq!(d["streets"]["totalCount"], 1);
    assert_eq!(d["organizations"]["totalCount"], 11);
}

#[tokio::test]
async fn staff_act_within_their_own_community() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let v = app
        .gql(
            Some(&staff),
            "mutation($c: ID!) { createGrid(input: {communityId: $c, name: \"汇通第三网格\", kind: COMPREHENSIVE, households: 301}) { grid { name households community { name } } } }",
            json!({"c": huitong}),
        )
        .await;
    assert_eq!(
        ok(&v)["createGrid"]["grid"]["community"]["name"],
        "汇通社区"
    );
    let v = app
        .gql(
            Some(&staff),
            "mutation($c: ID!) { createUser(input: {username: \"ht-resident\", password: \"password-123\", displayName: \"张阿姨\", phone: \"13600001234\", roles: [{role: RESIDENT, communityId: $c}]}) { user { username phone roles { role community { name } } } } }",
            json!({"c": huitong}),
        )
        .await;
    let user = &ok(&v)["createUser"]["user"];
    assert_eq!(user["phone"], "13600001234");
    assert_eq!(user["roles"][0]["community"]["name"], "汇通社区");
    // Staff may not grant ADMIN.
    let v = app
        .gql(
            Some(&staff),
            "mutation { createUser(input: {username: \"sneaky\", password: \"password-123\", displayName: \"x\", roles: [{role: ADMIN}]}) { user { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), Some("FORBIDDEN"));
}
