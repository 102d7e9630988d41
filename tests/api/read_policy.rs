//! Read policy: a table of every field that returns a protected object or a personal value,
//! checked against the live schema, and a sweep that reaches each protected object through
//! every path as outsiders and as the allowed viewers.

use std::collections::{BTreeMap, BTreeSet};

use api::account::rules::RoleGrant;
use entity::role_assignment::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

/// Types whose rows are personal or scoped: every field returning one needs a policy entry.
const PROTECTED: &[&str] = &[
    "User",
    "Passbook",
    "LedgerEntry",
    "Redemption",
    "GoodDeed",
    "GridRegistration",
    "ShiftSignup",
    "HoursCertificate",
    "WishClaim",
    "AuditEntry",
    "RoleAssignment",
    "ContactPerson",
    "Photo",
];

/// Field names that carry a person's name, phone or address.
const PERSONAL: &[&str] = &[
    "phone",
    "displayName",
    "address",
    "beneficiaryName",
    "beneficiaryPhone",
    "beneficiaryAddress",
    "studentName",
    "name",
];

/// `Type.field` → the policy that decides it. A field that returns a protected type or a
/// personal value and is missing here fails `every_protected_field_has_a_policy`.
pub const READ_POLICY: &[(&str, &str)] = &[
    // account policy: the person rule (User), wherever a User is returned
    ("User.displayName", "account::policy::person"),
    ("User.phone", "account::policy::person"),
    ("User.roles", "account::policy::may_see_roles"),
    ("Query.me", "the viewer themself"),
    ("LoginPayload.user", "the person themself (User::own)"),
    ("LoginPayload.roles", "the person themself"),
    ("CreateUserPayload.user", "account::policy::person"),
    (
        "Query.users",
        "account::policy::listable_people (list), then account::policy::person (fields)",
    ),
    (
        "AccountPayload.user",
        "account::policy::person (the actor passed may_manage_account)",
    ),
    ("Grid.leader", "account::policy::person"),
    ("GridStaff.user", "account::policy::person"),
    ("GridRegistration.member", "account::policy::person"),
    ("GridRegistration.reviewedBy", "account::policy::person"),
    (
        "Wish.beneficiary",
        "wish::policy::insight + account::policy::person",
    ),
    (
        "Wish.submittedBy",
        "wish::policy::insight + account::policy::person",
    ),
    ("Wish.claimant", "account::policy::person"),
    ("WishClaim.member", "account::policy::person"),
    ("WishClaim.claimant", "account::policy::person"),
    ("Wish.claims", "wish::policy::scope (the wish)"),
    (
        "Wish.photos",
        "wish::policy::scope (the wish; /files/{id} applies the same rule)",
    ),
    ("Passbook.holder", "account::policy::person"),
    ("LedgerEntry.operator", "account::policy::person"),
    ("GoodDeed.reportedBy", "account::policy::person"),
    ("RankingEntry.holder", "account::policy::person"),
    ("AgreementSignature.signer", "account::policy::person"),
    ("Agreement.proposedBy", "account::policy::person"),
    ("AgreementActivity.recordedBy", "account::policy::person"),
    ("AuditEntry.user", "account::policy::may_read_audit_log"),
    ("Query.auditLog", "account::policy::may_read_audit_log"),
    (
        "ShiftSignup.student",
        "schedule::policy::sees_student + account::policy::person",
    ),
    ("ShiftSignup.studentName", "schedule::policy::sees_student"),
    ("HoursCertificate.student", "account::policy::person"),
    ("Query.hoursCertificate", "schedule::policy::certificate"),
    (
        "RoleAssignment.*",
        "account::policy::may_see_roles (User.roles)",
    ),
    ("User.roleHistory", "account::policy::may_see_roles"),
    ("User.places", "account::policy::may_see_roles"),
    // incident policy
    ("Query.patrols", "incident::policy::visible_patrols"),
    ("PatrolPayload.patrol", "the grid worker who logged it"),
    (
        "Patrol.*",
        "incident::policy::visible_patrols (the patrol), then account::policy::person",
    ),
    ("Query.incidents", "incident::policy::visible"),
    ("Query.incident", "incident::policy::may_see"),
    (
        "IncidentPayload.incident",
        "incident::policy (the actor passed the step's rule)",
    ),
    (
        "Incident.raisedBy",
        "incident::policy::may_see_raiser + account::policy::person",
    ),
    (
        "Incident.*",
        "incident::policy::may_see (the incident), then account::policy::person",
    ),
    (
        "IncidentStep.*",
        "incident::policy::may_see (Incident.history), then account::policy::person",
    ),
    (
        "AdoptIncidentAsProjectPayload.incident",
        "incident::policy::may_adopt (the actor passed it)",
    ),
    (
        "Query.gridWeeklySummary",
        "incident::policy::may_see_meeting (counts only)",
    ),
    (
        "Query.gridRanking",
        "incident::policy::may_see_meeting (counts only)",
    ),
    (
        "Query.gridStarCandidates",
        "incident::policy::may_see_meeting",
    ),
    (
        "GridStarCandidate.worker",
        "incident::policy::may_see_meeting, then account::policy::person",
    ),
    (
        "Query.myPersonalData",
        "the viewer themself; each part then by its own type's policy",
    ),
    (
        "PersonalData.*",
        "the viewer themself (rows filtered by the caller's id)",
    ),
    (
        "Query.personalDataAccessLog",
        "account::policy::may_read_access_log",
    ),
    (
        "PersonalDataAccess.*",
        "account::policy::may_read_access_log (or the subject's own viewedBy), then account::policy::person",
    ),
    (
        "ErasePersonalDataPayload.user",
        "account::policy::person (the actor passed may_erase_personal_data)",
    ),
    (
        "RoleGrant.*",
        "account::policy::may_see_roles (User.roleHistory), then account::policy::person",
    ),
    (
        "RoleGrantPayload.user",
        "account::policy::person (the actor passed may_manage_account)",
    ),
    // places policy: the 连心卡 publishes grid staff to their community
    ("Query.contactCard", "places::policy::contact_card"),
    ("ContactCard.leader", "places::policy::contact_card"),
    ("ContactCard.workers", "places::policy::contact_card"),
    ("ContactPerson.name", "places::policy::contact_card"),
    ("ContactPerson.phone", "places::policy::contact_card"),
    ("ContactPerson.*", "places::policy::contact_card"),
    // bank policy
    ("Query.myPassbook", "the holder"),
    ("Query.passbook", "bank::policy::passbooks"),
    ("GoodDeed.passbook", "bank::policy::passbooks"),
    (
        "PassbookPayload.passbook",
        "staff who opened it (bank::policy::passbooks)",
    ),
    ("Passbook.entries", "bank::policy::passbooks (the passbook)"),
    (
        "LedgerEntry.reverses",
        "bank::policy::passbooks (same passbook)",
    ),
    (
        "LedgerEntry.reversedBy",
        "bank::policy::passbooks (same passbook)",
    ),
    (
        "LedgerEntry.redemption",
        "bank::policy::passbooks (same passbook)",
    ),
    (
        "Redemption.entry",
        "bank::policy::passbooks (same passbook)",
    ),
    ("RedeemRewardPayload.redemption", "the holder who redeemed"),
    (
        "ReverseLedgerEntryPayload.reversal",
        "staff who reversed it",
    ),
    ("Query.goodDeeds", "bank::policy::good_deeds"),
    ("GoodDeedPayload.goodDeed", "the reporter or reviewer"),
    // registration policy
    ("Query.gridRegistrations", "registration::policy::scope"),
    ("Grid.registeredMembers", "registration::policy::scope"),
    (
        "GridRegistrationPayload.registration",
        "the member or reviewing staff",
    ),
    // wish policy: the beneficiary's data
    ("Wish.beneficiaryName", "wish::policy::insight"),
    ("Wish.beneficiaryPhone", "wish::policy::insight"),
    ("Wish.beneficiaryAddress", "wish::policy::insight"),
    // schedule policy
    ("Shift.signups", "schedule::policy::sees_student"),
    ("Shift.mySignup", "the caller's own sign-up only"),
    ("Query.mySchedule", "the student themself"),
    (
        "ShiftSignupPayload.signup",
        "schedule::policy::sees_student",
    ),
    ("SeriesItem.signup", "the student themself"),
    ("ShiftEvent.signup", "schedule::policy::sees_student"),
    // public records: names of places and organisations, not persons
    ("Street.name", "public"),
    ("Street.phone", "public (the office's phone)"),
    ("Community.name", "public"),
    ("Community.phone", "public (the office's phone)"),
    ("Community.address", "public (the office's address)"),
    ("Grid.name", "public"),
    ("Organization.name", "public"),
    ("Alliance.name", "public"),
    ("Reward.name", "public"),
    ("GoodDeedCategory.name", "public"),
];

/// A minimal reading of the SDL: `type Name { field(args): Type }` blocks.
fn fields_of(sdl: &str) -> BTreeMap<String, Vec<(String, String)>> {
    use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
    fn named(ty: &Type) -> String {
        match &ty.base {
            BaseType::Named(name) => name.to_string(),
            BaseType::List(inner) => named(inner),
        }
    }
    let doc = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        let ty = ty.node;
        let TypeKind::Object(object) = ty.kind else {
            continue;
        };
        let fields = object
            .fields
            .iter()
            .map(|f| {
                let ret = named(&f.node.ty.node);
                (
                    f.node.name.node.to_string(),
                    ret.trim_end_matches("Connection").to_owned(),
                )
            })
            .collect();
        out.insert(ty.name.node.to_string(), fields);
    }
    out
}

/// Every field that returns a protected type (or its connection) or a personal value.
fn protected_fields(sdl: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (ty, fields) in fields_of(sdl) {
        if ty.ends_with("Edge") || ty.ends_with("Connection") {
            continue;
        }
        for (field, ret) in fields {
            let personal = PERSONAL.contains(&field.as_str());
            if PROTECTED.contains(&ret.as_str()) || personal {
                out.insert(format!("{ty}.{field}"));
            }
        }
    }
    out
}

fn covered(entry: &str, table: &[(&str, &str)]) -> bool {
    let entry = entry.replace("QueryRoot.", "Query.");
    let entry = entry.as_str();
    let ty = entry.split('.').next().unwrap_or_default();
    table
        .iter()
        .any(|(k, _)| *k == entry || *k == format!("{ty}.*"))
}

#[test]
fn every_protected_field_has_a_policy() {
    let sdl = api::schema::sdl();
    let fields = protected_fields(&sdl);
    assert!(
        fields.contains("Query.passbook") && fields.contains("GoodDeed.passbook"),
        "the SDL reader found the protected fields: {fields:?}"
    );
    let missing: Vec<&String> = fields.iter().filter(|f| !covered(f, READ_POLICY)).collect();
    assert!(
        missing.is_empty(),
        "fields returning a protected type or a personal value without a read-policy entry \
         (add them to READ_POLICY with the policy that decides them): {missing:?}"
    );
}

#[test]
fn the_table_check_fails_when_an_entry_is_removed() {
    let sdl = api::schema::sdl();
    let fields = protected_fields(&sdl);
    for removed in [
        "GoodDeed.passbook",
        "Wish.beneficiaryPhone",
        "ShiftSignup.studentName",
    ] {
        let table: Vec<(&str, &str)> = READ_POLICY
            .iter()
            .copied()
            .filter(|(k, _)| *k != removed)
            .collect();
        assert!(
            fields.iter().any(|f| !covered(f, &table)),
            "removing {removed} must leave a field uncovered"
        );
    }
}

/// The demo street plus outsiders: a party member, a grid worker and a staff member of 文宗.
struct World {
    app: TestApp,
    tokens: BTreeMap<&'static str, Option<String>>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::with_demo().await;
        let wenzong: i64 = app.community_id("文宗社区").await.parse().expect("id");
        let wz_grid: i64 = app.grid_id("文宗第一网格").await.parse().expect("id");
        let mut tokens = BTreeMap::new();
        tokens.insert("anonymous", None);
        for who in [
            "admin",
            "staff",
            "wz-staff",
            "grid",
            "member1",
            "resident1",
            "student1",
            "rep-power",
        ] {
            tokens.insert(who, Some(app.login(who).await));
        }
        let grant = |role, community_id, grid_id| RoleGrant {
            role,
            community_id,
            grid_id,
            organization_id: None,
        };
        let (_, t) = app
            .quick_user(
                "wz-member",
                &[grant(Role::PartyMember, Some(wenzong), None)],
            )
            .await;
        tokens.insert("wz-member", Some(t));
        let (_, t) = app
            .quick_user("wz-grid", &[grant(Role::GridWorker, None, Some(wz_grid))])
            .await;
        tokens.insert("wz-grid", Some(t));
        Self { app, tokens }
    }

    async fn ask(&self, who: &str, query: &str, vars: Value) -> Value {
        let token = self.tokens.get(who).expect("viewer").as_deref();
        self.app.gql(token, query, vars).await
    }
}

fn masked(s: &Value) -> bool {
    s.as_str().is_some_and(|s| s.contains('*'))
}

#[tokio::test]
async fn passbooks_are_read_by_holder_and_their_staff_through_every_path() {
    let w = World::new().await;
    let v = w
        .ask("resident1", "{ myPassbook { id balance } }", json!({}))
        .await;
    let book = ok(&v)["myPassbook"]["id"]
        .as_str()
        .expect("book")
        .to_owned();
    let balance = ok(&v)["myPassbook"]["balance"].clone();
    let q = "query($id: ID!) { passbook(id: $id) { balance holder { displayName phone } } }";
    for who in ["resident1", "staff", "admin"] {
        let v = w.ask(who, q, json!({"id": book})).await;
        assert_eq!(ok(&v)["passbook"]["balance"], balance, "{who}");
        assert_eq!(
            ok(&v)["passbook"]["holder"]["displayName"],
            "王秀英",
            "{who}"
        );
        assert_eq!(
            ok(&v)["passbook"]["holder"]["phone"],
            "13770003333",
            "{who}"
        );
    }
    for who in [
        "wz-staff",
        "grid",
        "member1",
        "wz-member",
        "wz-grid",
        "rep-power",
        "student1",
    ] {
        let v = w.ask(who, q, json!({"id": book})).await;
        assert_code(&v, "FORBIDDEN");
    }
    let v = w.ask("anonymous", q, json!({"id": book})).await;
    assert_code(&v, "UNAUTHENTICATED");

    // The grid worker reported a good deed for her: they see the deed, not her passbook.
    let deeds = "{ goodDeeds(first: 50) { nodes { description passbook { id balance } } } }";
    let v = w.ask("grid", deeds, json!({})).await;
    let nodes = ok(&v)["goodDeeds"]["nodes"]
        .as_array()
        .expect("deeds")
        .clone();
    assert!(
        !nodes.is_empty(),
        "the grid worker sees the deeds they reported"
    );
    assert!(nodes.iter().all(|n| n["passbook"].is_null()), "{nodes:?}");
    let v = w.ask("staff", deeds, json!({})).await;
    let nodes = ok(&v)["goodDeeds"]["nodes"]
        .as_array()
        .expect("deeds")
        .clone();
    assert!(nodes.iter().any(|n| n["passbook"]["id"] == book.as_str()));
    for who in ["wz-staff", "wz-grid", "member1"] {
        let v = w.ask(who, deeds, json!({})).await;
        let nodes = ok(&v)["goodDeeds"]["nodes"]
            .as_array()
            .expect("deeds")
            .clone();
        assert!(
            nodes.iter().all(|n| n["passbook"]["id"] != book.as_str()),
            "{who}: {nodes:?}"
        );
    }

    // The payload of a report by a grid worker: no passbook either.
    let cats = w
        .ask("grid", "{ goodDeedCategories { id } }", json!({}))
        .await;
    let cat = ok(&cats)["goodDeedCategories"][0]["id"].clone();
    let holder = w.ask("resident1", "{ me { id } }", json!({})).await;
    let v = w
        .ask(
            "grid",
            "mutation($h: ID!, $c: ID!) { reportGoodDeed(input: {holderId: $h, categoryId: $c, description: \"帮邻居搬家\", occurredOn: \"2026-11-20\"}) { goodDeed { status passbook { balance } } } }",
            json!({"h": ok(&holder)["me"]["id"], "c": cat}),
        )
        .await;
    assert_eq!(ok(&v)["reportGoodDeed"]["goodDeed"]["status"], "PENDING");
    assert!(ok(&v)["reportGoodDeed"]["goodDeed"]["passbook"].is_null());
}

#[tokio::test]
async fn registrations_follow_one_rule_from_the_root_and_from_a_grid() {
    let w = World::new().await;
    let grid = w.app.grid_id("汇通第一网格").await;
    let root = "query($g: ID!) { gridRegistrations(gridId: $g, status: APPROVED) { totalCount } }";
    let nested = "query($g: ID!) { grid(id: $g) { registeredMemberCount registeredMembers { totalCount nodes { member { username } } } } }";
    for (who, seen) in [
        ("admin", 1),
        ("staff", 1),
        ("grid", 1),
        ("member1", 1),
        ("resident1", 0),
        ("wz-staff", 0),
        ("wz-grid", 0),
        ("wz-member", 0),
        ("rep-power", 0),
    ] {
        let a = w.ask(who, root, json!({"g": grid})).await;
        let b = w.ask(who, nested, json!({"g": grid})).await;
        assert_eq!(
            ok(&a)["gridRegistrations"]["totalCount"],
            seen,
            "{who} root"
        );
        assert_eq!(
            ok(&b)["grid"]["registeredMembers"]["totalCount"],
            seen,
            "{who} nested"
        );
        // The count is a public figure.
        assert_eq!(ok(&b)["grid"]["registeredMemberCount"], 1, "{who}");
    }
}

#[tokio::test]
async fn a_copied_phone_is_shown_no_wider_than_the_profile() {
    let w = World::new().await;
    let q = "{ wishes(first: 50) { nodes { title beneficiaryName beneficiaryPhone beneficiaryAddress beneficiary { displayName phone } } } }";
    let radio = |v: &Value| -> Value {
        ok(v)["wishes"]["nodes"]
            .as_array()
            .expect("wishes")
            .iter()
            .find(|n| n["title"] == "想要一台收音机")
            .cloned()
            .expect("the resident's wish")
    };
    // Her own profile's phone was copied onto her wish.
    for who in ["resident1", "staff", "admin"] {
        let n = radio(&w.ask(who, q, json!({})).await);
        assert_eq!(n["beneficiaryName"], "王秀英", "{who}");
        assert_eq!(n["beneficiaryPhone"], "13770003333", "{who}");
        assert_eq!(n["beneficiaryAddress"], "汇通路 8 号 3 栋 201", "{who}");
    }
    // The grid worker of her grid may see her name, not her phone (the profile rule).
    let n = radio(&w.ask("grid", q, json!({})).await);
    assert_eq!(n["beneficiaryName"], "王秀英");
    assert!(n["beneficiaryPhone"].is_null(), "{n}");
    assert!(n["beneficiaryAddress"].is_null(), "{n}");
    let me = w.ask("grid", "{ me { id } }", json!({})).await;
    assert!(ok(&me)["me"]["id"].is_string());
    for who in [
        "anonymous",
        "member1",
        "wz-staff",
        "wz-grid",
        "wz-member",
        "rep-power",
    ] {
        let n = radio(&w.ask(who, q, json!({})).await);
        assert!(masked(&n["beneficiaryName"]), "{who}: {n}");
        assert!(n["beneficiaryPhone"].is_null(), "{who}: {n}");
        assert!(n["beneficiaryAddress"].is_null(), "{who}: {n}");
        assert!(n["beneficiary"].is_null(), "{who}: {n}");
    }
}

#[tokio::test]
async fn a_parent_grids_worker_sees_a_micro_grids_wish_by_every_path() {
    let w = World::new().await;
    let micro = w.app.grid_id("汇通一网格 1 号楼微网格").await;
    let v = w
        .ask(
            "resident1",
            "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"修门锁\", description: \"门锁坏了\", category: SERVICE}) { wish { id status } } }",
            json!({"g": micro}),
        )
        .await;
    let id = ok(&v)["submitWish"]["wish"]["id"].clone();
    assert_eq!(ok(&v)["submitWish"]["wish"]["status"], "PENDING_REVIEW");
    let one = "query($id: ID!) { wish(id: $id) { title } }";
    let list = "{ wishes(first: 100, status: PENDING_REVIEW) { nodes { id } } }";
    for (who, sees) in [
        ("grid", true),
        ("staff", true),
        ("admin", true),
        ("resident1", true),
        ("wz-grid", false),
        ("wz-staff", false),
        ("member1", false),
        ("anonymous", false),
    ] {
        let a = w.ask(who, one, json!({"id": id})).await;
        let b = w.ask(who, list, json!({})).await;
        let listed = ok(&b)["wishes"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["id"] == id);
        assert_eq!(listed, sees, "{who} list");
        if sees {
            assert_eq!(ok(&a)["wish"]["title"], "修门锁", "{who}");
        } else {
            assert_code(&a, "NOT_FOUND");
        }
    }
}

#[tokio::test]
async fn rankings_mask_names_as_the_wish_wall_does() {
    let w = World::new().await;
    let community = w.app.community_id("汇通社区").await;
    let today = api::core::validate::today();
    let from = (today - chrono::Duration::days(60)).to_string();
    let to = today.to_string();
    let q = "query($c: ID!, $f: Date!, $t: Date!) { pointsRanking(communityId: $c, from: $f, to: $t) { points holder { displayName phone } } }";
    let v = w
        .ask("anonymous", q, json!({"c": community, "f": from, "t": to}))
        .await;
    let rows = ok(&v)["pointsRanking"].as_array().expect("rows").clone();
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(masked(&r["holder"]["displayName"]), "{r}");
        if !r["holder"]["phone"].is_null() {
            assert!(masked(&r["holder"]["phone"]), "{r}");
        }
    }
    for who in ["wz-staff", "member1", "wz-grid"] {
        let v = w
            .ask(who, q, json!({"c": community, "f": from, "t": to}))
            .await;
        for r in ok(&v)["pointsRanking"].as_array().expect("rows") {
            assert!(masked(&r["holder"]["displayName"]), "{who}: {r}");
        }
    }
    let v = w
        .ask("staff", q, json!({"c": community, "f": from, "t": to}))
        .await;
    let rows = ok(&v)["pointsRanking"].as_array().expect("rows").clone();
    assert!(
        rows.iter().all(|r| !masked(&r["holder"]["displayName"])),
        "{rows:?}"
    );
}

#[tokio::test]
async fn certificates_are_scoped_to_the_staffs_communities() {
    let w = World::new().await;
    let student = w.ask("student1", "{ me { id } }", json!({})).await;
    let sid = ok(&student)["me"]["id"].clone();
    let q = "query($s: ID!) { hoursCertificate(studentId: $s, from: \"2020-01-01\", to: \"2030-12-31\") { totalHours totalShifts communities { community { name } } } }";
    let whole = w.ask("student1", q, json!({"s": sid})).await;
    let total = ok(&whole)["hoursCertificate"]["totalShifts"]
        .as_i64()
        .expect("shifts");
    assert!(total > 0, "the demo student has completed shifts");
    for who in ["admin", "staff"] {
        let v = w.ask(who, q, json!({"s": sid})).await;
        assert_eq!(ok(&v)["hoursCertificate"]["totalShifts"], total, "{who}");
    }
    // Staff of another community read only the service done in theirs: none.
    let v = w.ask("wz-staff", q, json!({"s": sid})).await;
    assert_eq!(ok(&v)["hoursCertificate"]["totalShifts"], 0);
    assert_eq!(ok(&v)["hoursCertificate"]["communities"], json!([]));
    for who in ["resident1", "member1", "grid", "wz-grid", "rep-power"] {
        let v = w.ask(who, q, json!({"s": sid})).await;
        assert_code(&v, "FORBIDDEN");
    }
}

#[tokio::test]
async fn a_students_name_on_a_shift_follows_one_rule() {
    let w = World::new().await;
    let q = "{ shifts(first: 100) { nodes { signups { studentName student { displayName } } } } }";
    let signups = |v: &Value| -> Vec<Value> {
        ok(v)["shifts"]["nodes"]
            .as_array()
            .expect("shifts")
            .iter()
            .flat_map(|n| n["signups"].as_array().cloned().unwrap_or_default())
            .collect()
    };
    for who in ["staff", "admin", "grid", "student1"] {
        let s = signups(&w.ask(who, q, json!({})).await);
        assert!(!s.is_empty());
        for x in &s {
            assert!(!masked(&x["studentName"]), "{who}: {x}");
            assert_eq!(x["student"]["displayName"], x["studentName"], "{who}");
        }
    }
    for who in [
        "anonymous",
        "resident1",
        "member1",
        "wz-staff",
        "wz-grid",
        "rep-power",
    ] {
        let s = signups(&w.ask(who, q, json!({})).await);
        assert!(!s.is_empty());
        for x in &s {
            assert!(masked(&x["studentName"]), "{who}: {x}");
            assert!(x["student"].is_null(), "{who}: {x}");
        }
    }
}

#[tokio::test]
async fn personal_fields_of_a_user_follow_the_person_rule_everywhere() {
    let w = World::new().await;
    // A claimant's name on the wish wall and in a claim's history.
    let q = "{ wishes(first: 50, status: CLAIMED) { nodes { claimant { displayName phone } claims { member { displayName } } } } }";
    for who in ["anonymous", "wz-member", "wz-staff"] {
        let v = w.ask(who, q, json!({})).await;
        for n in ok(&v)["wishes"]["nodes"].as_array().expect("nodes") {
            assert!(masked(&n["claimant"]["displayName"]), "{who}: {n}");
            assert!(masked(&n["claimant"]["phone"]), "{who}: {n}");
            for c in n["claims"].as_array().expect("claims") {
                assert!(masked(&c["member"]["displayName"]), "{who}: {c}");
            }
        }
    }
    // Grid staff hold a public office: their names are public, their phones are not.
    let grid = w.app.grid_id("汇通第一网格").await;
    let v = w
        .ask(
            "anonymous",
            "query($g: ID!) { grid(id: $g) { leader { displayName phone roles { role } } } }",
            json!({"g": grid}),
        )
        .await;
    let leader = &v["data"]["grid"]["leader"];
    assert!(!masked(&leader["displayName"]), "{v}");
    // Roles gated by policy answer an empty list, without an error.
    assert!(v["errors"].is_null(), "{v}");
    assert_eq!(leader["roles"], json!([]), "{v}");
    let v = w
        .ask(
            "anonymous",
            "query($g: ID!) { grid(id: $g) { leader { displayName phone } } }",
            json!({"g": grid}),
        )
        .await;
    assert!(masked(&ok(&v)["grid"]["leader"]["phone"]), "{v}");
    // The audit log: ADMIN only.
    for who in ["staff", "grid", "resident1"] {
        let v = w
            .ask(who, "{ auditLog(first: 1) { totalCount } }", json!({}))
            .await;
        assert_code(&v, "FORBIDDEN");
    }
    let v = w
        .ask("admin", "{ auditLog(first: 1) { totalCount } }", json!({}))
        .await;
    assert!(ok(&v)["auditLog"]["totalCount"].is_number());
}
