//! Roles granted and revoked with scope and dates, kept as history: in force at once or on
//! their first day, out after their last day or at revocation; staff only within their
//! community and never ADMIN; the last active ADMIN keeps the role, also against a
//! deactivation racing a revocation.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

const GRANT: &str = "mutation($in: GrantRoleInput!) { grantRole(input: $in) { grant { id role from until inForce grantedBy { username } community { name } } user { id } } }";
const REVOKE: &str = "mutation($id: ID!, $reason: String!) { revokeRole(input: {grantId: $id, reason: $reason}) { grant { id inForce revokedAt revokeReason revokedBy { username } } } }";
const MY_ROLES: &str =
    "{ me { roles { role grantId } roleHistory { id role inForce revokeReason } } }";

fn has_role(me: &Value, role: &str) -> bool {
    me["data"]["me"]["roles"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r["role"] == role))
}

#[tokio::test]
async fn a_grant_is_in_force_at_once_and_a_revocation_ends_it_with_history() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let huitong = app.community_id("汇通社区").await;

    assert!(!has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong}}),
        )
        .await;
    let grant = &ok(&v)["grantRole"]["grant"];
    assert_eq!(grant["inForce"], true);
    assert_eq!(grant["grantedBy"]["username"], "admin");
    assert_eq!(grant["community"]["name"], "汇通社区");
    assert_eq!(grant["until"], Value::Null);
    let grant_id = grant["id"].as_str().expect("id").to_owned();
    // The same token sees the role on its very next request.
    let me = app.gql(Some(&resident), MY_ROLES, json!({})).await;
    assert!(has_role(&me, "PARTY_MEMBER"), "{me}");
    let in_force = me["data"]["me"]["roles"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["role"] == "PARTY_MEMBER"))
        .expect("role");
    assert_eq!(in_force["grantId"], grant_id.as_str());
    // An overlapping grant of the same role and scope is a duplicate.
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong}}),
        )
        .await;
    assert_code(&v, "CONFLICT");

    let v = app
        .gql(
            Some(&admin),
            REVOKE,
            json!({"id": grant_id, "reason": "转出本社区"}),
        )
        .await;
    let revoked = &ok(&v)["revokeRole"]["grant"];
    assert_eq!(revoked["inForce"], false);
    assert_eq!(revoked["revokeReason"], "转出本社区");
    assert_eq!(revoked["revokedBy"]["username"], "admin");
    assert!(revoked["revokedAt"].is_string());
    let me = app.gql(Some(&resident), MY_ROLES, json!({})).await;
    assert!(!has_role(&me, "PARTY_MEMBER"), "{me}");
    // The history keeps it.
    let history = me["data"]["me"]["roleHistory"].as_array().expect("history");
    let kept = history
        .iter()
        .find(|g| g["id"] == grant_id.as_str())
        .expect("kept");
    assert_eq!(kept["revokeReason"], "转出本社区");
    assert_eq!(kept["inForce"], false);
    assert!(
        history
            .iter()
            .any(|g| g["role"] == "RESIDENT" && g["inForce"] == true)
    );
    // Twice is a wrong state; an empty reason is bad input.
    let v = app
        .gql(
            Some(&admin),
            REVOKE,
            json!({"id": grant_id, "reason": "再次"}),
        )
        .await;
    assert_code(&v, "INVALID_STATE");
    let resident_grant = history
        .iter()
        .find(|g| g["role"] == "RESIDENT")
        .and_then(|g| g["id"].as_str())
        .expect("resident grant");
    let v = app
        .gql(
            Some(&admin),
            REVOKE,
            json!({"id": resident_grant, "reason": " "}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    // A grant may be made again after its revocation.
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong}}),
        )
        .await;
    assert_eq!(ok(&v)["grantRole"]["grant"]["inForce"], true);
    // Other people see the history only where they see the roles: a grid worker lists
    // people but sees neither (an empty list, without an error).
    let v = app
        .gql(
            Some(&app.login("grid").await),
            "{ users(first: 100) { nodes { id roleHistory { id } roles { role } } } }",
            json!({}),
        )
        .await;
    let nodes = ok(&v)["users"]["nodes"].as_array().expect("nodes").clone();
    assert!(!nodes.is_empty());
    let grid_id = app.user_id(&app.login("grid").await).await;
    for n in nodes.iter().filter(|n| n["id"] != grid_id.as_str()) {
        assert_eq!(n["roleHistory"], json!([]), "{n}");
        assert_eq!(n["roles"], json!([]), "{n}");
    }
}

#[tokio::test]
async fn dated_grants_come_into_force_on_their_first_day_and_leave_after_their_last() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let huitong = app.community_id("汇通社区").await;
    let today = api::core::validate::today();
    let day = |n: i64| (today + Duration::days(n)).to_string();

    // Not before today, and not ending before it starts.
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong, "from": day(-1)}}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong, "from": day(3), "until": day(2)}}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");

    // From tomorrow until the day after: not in force today.
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong, "from": day(1), "until": day(2)}}),
        )
        .await;
    let grant = &ok(&v)["grantRole"]["grant"];
    assert_eq!(grant["inForce"], false);
    assert_eq!(grant["from"], day(1));
    assert_eq!(grant["until"], day(2));
    // A second grant overlapping those days is a duplicate; one after them is not.
    let v = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong, "from": day(2)}}),
        )
        .await;
    assert_code(&v, "CONFLICT");
    let later = app
        .gql(
            Some(&admin),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong, "from": day(10), "until": day(12)}}),
        )
        .await;
    let later_id = ok(&later)["grantRole"]["grant"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let applied = api::account::roles::apply_due(app.db(), today)
        .await
        .expect("apply");
    assert_eq!(applied.put_in_force, 0);
    assert!(!has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
    // Its first day: in force, for the token issued before.
    let applied = api::account::roles::apply_due(app.db(), today + Duration::days(1))
        .await
        .expect("apply");
    assert_eq!(applied.put_in_force, 1);
    assert!(has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
    // Running again changes nothing.
    let again = api::account::roles::apply_due(app.db(), today + Duration::days(1))
        .await
        .expect("apply");
    assert_eq!(again, api::account::roles::Applied::default());
    // Its last day still in force; the day after, out.
    api::account::roles::apply_due(app.db(), today + Duration::days(2))
        .await
        .expect("apply");
    assert!(has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
    let applied = api::account::roles::apply_due(app.db(), today + Duration::days(3))
        .await
        .expect("apply");
    assert_eq!(applied.taken_out, 1);
    assert!(!has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
    // A future grant revoked before it starts never comes into force.
    let v = app
        .gql(
            Some(&admin),
            REVOKE,
            json!({"id": later_id, "reason": "计划取消"}),
        )
        .await;
    ok(&v);
    let applied = api::account::roles::apply_due(app.db(), today + Duration::days(10))
        .await
        .expect("apply");
    assert_eq!(applied.put_in_force, 0);
    assert!(!has_role(
        &app.gql(Some(&resident), MY_ROLES, json!({})).await,
        "PARTY_MEMBER"
    ));
}

#[tokio::test]
async fn staff_grant_and_revoke_only_within_their_community_and_never_admin() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let other_staff = app.login("wz-staff").await;
    let resident_id = app.user_id(&app.login("resident1").await).await;
    let huitong = app.community_id("汇通社区").await;
    let wenzong = app.community_id("文宗社区").await;
    let staff_id = app.user_id(&staff).await;

    // Staff of another community: neither the person nor the scope is theirs.
    let v = app
        .gql(
            Some(&other_staff),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": wenzong}}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
    // Their own person, another community's scope.
    let v = app
        .gql(
            Some(&staff),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": wenzong}}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
    // Never ADMIN.
    let v = app
        .gql(
            Some(&staff),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "ADMIN"}}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
    // Never on staff (ADMIN manages staff), themselves included.
    let v = app
        .gql(
            Some(&staff),
            GRANT,
            json!({"in": {"userId": staff_id, "role": "PARTY_MEMBER", "communityId": huitong}}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
    // Within their community: granted, and revocable by them but not by other staff.
    let v = app
        .gql(
            Some(&staff),
            GRANT,
            json!({"in": {"userId": resident_id, "role": "PARTY_MEMBER", "communityId": huitong}}),
        )
        .await;
    let id = ok(&v)["grantRole"]["grant"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let v = app
        .gql(
            Some(&other_staff),
            REVOKE,
            json!({"id": id, "reason": "越权"}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
    let v = app
        .gql(
            Some(&staff),
            REVOKE,
            json!({"id": id, "reason": "登记有误"}),
        )
        .await;
    assert_eq!(ok(&v)["revokeRole"]["grant"]["inForce"], false);
    // A staff member's own role is ADMIN's to revoke.
    let staff_history = app
        .gql(
            Some(&app.login("admin").await),
            "{ users(first: 100) { nodes { id roleHistory { id role } } } }",
            json!({}),
        )
        .await;
    let staff_grant = ok(&staff_history)["users"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["id"] == staff_id.as_str()))
        .and_then(|u| u["roleHistory"][0]["id"].as_str())
        .expect("staff grant")
        .to_owned();
    let v = app
        .gql(
            Some(&staff),
            REVOKE,
            json!({"id": staff_grant, "reason": "自行撤销"}),
        )
        .await;
    assert_code(&v, "FORBIDDEN");
}

#[tokio::test]
async fn the_last_admin_keeps_the_role_even_against_a_racing_deactivation() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let admin_id = app.user_id(&admin).await;
    let history = |token: String| {
        let app = &app;
        async move {
            let v = app.gql(Some(&token), MY_ROLES, json!({})).await;
            ok(&v)["me"]["roleHistory"]
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .find(|g| g["role"] == "ADMIN" && g["inForce"] == true)
                })
                .and_then(|g| g["id"].as_str())
                .expect("admin grant")
                .to_owned()
        }
    };
    let own = history(admin.clone()).await;
    let v = app
        .gql(Some(&admin), REVOKE, json!({"id": own, "reason": "离任"}))
        .await;
    assert_code(&v, "INVALID_STATE");
    // The database holds it too: the role in force cannot be deleted directly.
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let direct = entity::role_assignment::Entity::delete_many()
            .filter(entity::role_assignment::Column::Role.eq(entity::role_assignment::Role::Admin))
            .exec(app.db())
            .await;
        assert!(direct.is_err(), "the database let the last ADMIN's role go");
    }
    ok(&app
        .gql(
            Some(&admin),
            "{ users(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await);

    // A second ADMIN: A revokes B's role while B deactivates A. Whatever the order, one
    // active ADMIN is left, and the loser gets a coded error.
    let v = app
        .gql(
            Some(&admin),
            "mutation { createUser(input: {username: \"admin2\", password: \"Second-admin-1\", displayName: \"二号管理员\", roles: [{role: ADMIN}]}) { user { id } } }",
            json!({}),
        )
        .await;
    let second_id = ok(&v)["createUser"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let second = app.login_as("admin2", "Second-admin-1").await;
    let second_grant = history(second.clone()).await;
    let deactivate =
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id active } } }";
    let (a, b) = tokio::join!(
        app.gql(
            Some(&admin),
            REVOKE,
            json!({"id": second_grant, "reason": "交接"})
        ),
        app.gql(Some(&second), deactivate, json!({"id": admin_id})),
    );
    for v in [&a, &b] {
        if !v["errors"].is_null() {
            let code = v["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
            assert!(
                ["INVALID_STATE", "UNAUTHENTICATED", "FORBIDDEN"].contains(&code),
                "{v}"
            );
        }
    }
    let admins_left = {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let holders: Vec<i64> = entity::role_assignment::Entity::find()
            .filter(entity::role_assignment::Column::Role.eq(entity::role_assignment::Role::Admin))
            .all(app.db())
            .await
            .expect("roles")
            .into_iter()
            .map(|r| r.user_id)
            .collect();
        entity::user::Entity::find()
            .filter(entity::user::Column::Id.is_in(holders))
            .filter(entity::user::Column::Active.eq(true))
            .count(app.db())
            .await
            .expect("count")
    };
    assert_eq!(admins_left, 1, "{a} {b}");
    let _ = second_id;
}

#[tokio::test]
async fn a_revocation_racing_the_end_of_the_grid_post_revokes_the_grant_once() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let admin = app.login("admin").await;
    let ht2 = app.grid_id("汇通第二网格").await;
    let grid_id: i64 = ht2.parse().expect("id");
    let community: i64 = app.community_id("汇通社区").await.parse().expect("id");
    // A resident of the community, so that its staff may manage them whether or not the post
    // has ended by the time the revocation is checked.
    let resident = [api::account::rules::RoleGrant {
        role: entity::role_assignment::Role::Resident,
        community_id: Some(community),
        grid_id: None,
        organization_id: None,
    }];
    for round in 0..4 {
        let (user, _) = app.quick_user(&format!("walker{round}"), &resident).await;
        let v = app
            .gql(
                Some(&admin),
                "mutation($g: ID!, $u: ID!) { assignGridStaff(input: {gridId: $g, userId: $u, role: WORKER}) { staff { id } } }",
                json!({"g": ht2, "u": user.to_string()}),
            )
            .await;
        let post = ok(&v)["assignGridStaff"]["staff"]["id"].clone();
        let grant = entity::role_grant::Entity::find()
            .filter(entity::role_grant::Column::UserId.eq(user))
            .filter(entity::role_grant::Column::GridId.eq(grid_id))
            .filter(entity::role_grant::Column::Role.eq(entity::role_assignment::Role::GridWorker))
            .one(app.db())
            .await
            .expect("query")
            .expect("the post's grant");
        let (revoked, ended) = tokio::join!(
            app.gql(
                Some(&staff),
                "mutation($g: ID!) { revokeRole(input: {grantId: $g, reason: \"调岗\"}) { grant { id } } }",
                json!({"g": grant.id.to_string()}),
            ),
            app.gql(
                Some(&staff),
                "mutation($s: ID!) { endGridStaff(input: {staffId: $s}) { staff { id endDate } } }",
                json!({"s": post}),
            ),
        );
        // The post always ends; the revocation wins or finds it already revoked.
        assert!(ended["errors"].is_null(), "round {round}: {ended}");
        // A revocation that finds the grant already revoked: INVALID_STATE if it read it after
        // the post ended, CONFLICT if it lost the conditional update.
        if let Some(code) = crate::helpers::error_code(&revoked) {
            assert!(
                ["CONFLICT", "INVALID_STATE"].contains(&code),
                "round {round}: {revoked}"
            );
        }
        let g = entity::role_grant::Entity::find_by_id(grant.id)
            .one(app.db())
            .await
            .expect("query")
            .expect("grant");
        assert!(g.revoked_at.is_some());
        let reason = g.revoke_reason.as_deref();
        if revoked["errors"].is_null() {
            assert_eq!(reason, Some("调岗"), "round {round}");
        } else {
            assert_eq!(reason, Some("网格任职结束"), "round {round}");
        }
        let in_force = entity::role_assignment::Entity::find()
            .filter(entity::role_assignment::Column::UserId.eq(user))
            .filter(entity::role_assignment::Column::GridId.eq(grid_id))
            .all(app.db())
            .await
            .expect("roles");
        assert!(in_force.is_empty(), "round {round}: {in_force:?}");
    }
}
