use api::account::rules::RoleGrant;
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use chrono::{DateTime, Datelike, Duration, Utc};
use entity::{ledger_entry, role_assignment::Role, shift};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

const CREATE: &str = "mutation($c: ID!, $w: Int!, $s: String!, $e: String!, $cap: Int!, $f: Date!, $t: Date!, $skip: [Date!], $orgs: [ID!]) { createServiceSlot(input: {communityId: $c, title: \"网格员助理\", tasks: [\"入户走访\"], weekday: $w, startTime: $s, endTime: $e, capacity: $cap, validFrom: $f, validTo: $t, skippedDates: $skip, eligibleOrganizationIds: $orgs}) { slot { id } } }";
const SHIFTS: &str = "query($s: ID!) { shifts(slotId: $s, first: 100) { totalCount nodes { id date startsAt endsAt capacity taken } } }";
const SIGN_UP: &str =
    "mutation($s: ID!) { signUpForShift(input: {shiftId: $s}) { signup { id status } } }";
const SERIES: &str = "mutation($s: ID!) { signUpForSeries(input: {slotId: $s}) { takenCount items { taken reason shift { id date } } } }";

fn student(org: i64) -> Vec<RoleGrant> {
    vec![RoleGrant {
        role: Role::Student,
        community_id: None,
        grid_id: None,
        organization_id: Some(org),
    }]
}

fn day(offset: i64) -> chrono::NaiveDate {
    api::core::validate::today() + Duration::days(offset)
}

/// A slot at 汇通社区 created by demo staff; returns its id.
async fn slot(
    app: &TestApp,
    weekday: u32,
    start: &str,
    end: &str,
    cap: i32,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    skip: Vec<String>,
    orgs: Vec<String>,
) -> String {
    let staff = app.login("staff").await;
    let v = app
        .gql(
            Some(&staff),
            CREATE,
            json!({"c": "1", "w": weekday, "s": start, "e": end, "cap": cap, "f": from.to_string(), "t": to.to_string(), "skip": skip, "orgs": orgs}),
        )
        .await;
    ok(&v)["createServiceSlot"]["slot"]["id"]
        .as_str()
        .expect("slot id")
        .to_owned()
}

async fn shifts(app: &TestApp, slot: &str) -> Vec<Value> {
    let v = app.gql(None, SHIFTS, json!({"s": slot})).await;
    ok(&v)["shifts"]["nodes"].as_array().expect("nodes").clone()
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .expect("instant")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_hundred_concurrent_sign_ups_fill_five_places_exactly() {
    let app = TestApp::with_demo().await;
    let first = day(3);
    let id = slot(
        &app,
        first.weekday().number_from_monday(),
        "14:00",
        "17:00",
        5,
        first,
        first,
        vec![],
        vec!["7".into()],
    )
    .await;
    let shift_id = shifts(&app, &id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut tokens = Vec::new();
    for i in 0..100 {
        tokens.push(app.quick_user(&format!("stu{i}"), &student(7)).await.1);
    }
    let results = futures::future::join_all(
        tokens
            .iter()
            .map(|t| app.gql(Some(t), SIGN_UP, json!({"s": shift_id}))),
    )
    .await;
    let wins = results.iter().filter(|v| v.get("errors").is_none()).count();
    let conflicts = results
        .iter()
        .filter(|v| error_code(v) == Some("CONFLICT"))
        .count();
    assert_eq!(
        (wins, conflicts),
        (5, 95),
        "{:?}",
        results
            .iter()
            .find(|v| error_code(v) != Some("CONFLICT") && v.get("errors").is_some())
    );
    let s = &shifts(&app, &id).await[0];
    assert_eq!(
        (s["taken"].as_i64(), s["capacity"].as_i64()),
        (Some(5), Some(5))
    );
    // Shrinking capacity below the places taken is refused; nothing is dropped.
    let staff = app.login("staff").await;
    let v = app.gql(Some(&staff), "mutation($s: ID!) { updateServiceSlot(input: {slotId: $s, capacity: 3}) { slot { capacity } } }", json!({"s": id})).await;
    assert_code(&v, "CONFLICT");
    let v = app.gql(Some(&staff), "mutation($s: ID!) { updateServiceSlot(input: {slotId: $s, startTime: \"15:00\", endTime: \"18:00\"}) { slot { startTime } } }", json!({"s": id})).await;
    assert_code(&v, "CONFLICT");
    let v = app.gql(Some(&staff), "mutation($s: ID!) { updateServiceSlot(input: {slotId: $s, capacity: 8}) { slot { capacity } } }", json!({"s": id})).await;
    assert_eq!(ok(&v)["updateServiceSlot"]["slot"]["capacity"], 8);
    assert_eq!(shifts(&app, &id).await[0]["taken"], 5);
}

#[tokio::test]
async fn a_semester_series_takes_fourteen_shifts_and_reports_full_and_overlapping_weeks() {
    let app = TestApp::with_demo().await;
    let from = day(7);
    let wd = from.weekday().number_from_monday();
    let to = from + Duration::weeks(15);
    let skip = vec![
        (from + Duration::weeks(4)).to_string(),
        (from + Duration::weeks(9)).to_string(),
    ];
    let semester = slot(
        &app,
        wd,
        "14:00",
        "17:00",
        2,
        from,
        to,
        skip.clone(),
        vec!["7".into()],
    )
    .await;
    let all = shifts(&app, &semester).await;
    assert_eq!(all.len(), 14, "16 weeks minus 2 skipped dates");
    assert!(
        all.iter()
            .all(|s| !skip.contains(&s["date"].as_str().unwrap_or_default().to_owned()))
    );

    let (_, clean) = app.quick_user("clean", &student(7)).await;
    let v = app.gql(Some(&clean), SERIES, json!({"s": semester})).await;
    assert_eq!(ok(&v)["signUpForSeries"]["takenCount"], 14);

    // Week 3 is full; week 6 overlaps another slot the student signed up for.
    let (_, other) = app.quick_user("other", &student(7)).await;
    ok(&app
        .gql(Some(&other), SIGN_UP, json!({"s": all[2]["id"]}))
        .await);
    let overlap_day =
        chrono::NaiveDate::parse_from_str(all[5]["date"].as_str().expect("date"), "%Y-%m-%d")
            .expect("date");
    let single = slot(
        &app,
        wd,
        "16:00",
        "18:00",
        5,
        overlap_day,
        overlap_day,
        vec![],
        vec!["7".into()],
    )
    .await;
    let (_, busy) = app.quick_user("busy", &student(7)).await;
    ok(&app
        .gql(
            Some(&busy),
            SIGN_UP,
            json!({"s": shifts(&app, &single).await[0]["id"]}),
        )
        .await);
    let v = app.gql(Some(&busy), SERIES, json!({"s": semester})).await;
    let d = &ok(&v)["signUpForSeries"];
    assert_eq!(d["takenCount"], 12);
    let items = d["items"].as_array().expect("items");
    assert_eq!(items.len(), 14);
    assert_eq!(items[2]["reason"], "FULL");
    assert_eq!(items[5]["reason"], "OVERLAP");
    assert!(
        items
            .iter()
            .enumerate()
            .all(|(i, it)| (i == 2 || i == 5) != it["taken"].as_bool().unwrap_or(false))
    );
    // Again: everything already signed up or full.
    let v = app.gql(Some(&busy), SERIES, json!({"s": semester})).await;
    assert_eq!(ok(&v)["signUpForSeries"]["takenCount"], 0);
}

#[tokio::test]
async fn shift_instants_are_right_across_a_month_and_across_midnight_utc() {
    let app = TestApp::with_demo().await;
    // Mondays from 2027-01-25 to 2027-02-08, 14:00–17:00 and 07:00–09:00 local.
    let from = chrono::NaiveDate::from_ymd_opt(2027, 1, 25).expect("date");
    let to = chrono::NaiveDate::from_ymd_opt(2027, 2, 8).expect("date");
    let afternoon = shifts(
        &app,
        &slot(&app, 1, "14:00", "17:00", 3, from, to, vec![], vec![]).await,
    )
    .await;
    let dates: Vec<&str> = afternoon
        .iter()
        .filter_map(|s| s["date"].as_str())
        .collect();
    assert_eq!(dates, ["2027-01-25", "2027-02-01", "2027-02-08"]);
    assert_eq!(
        instant(&afternoon[1]["startsAt"]),
        "2027-02-01T06:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
    assert_eq!(
        instant(&afternoon[1]["endsAt"]),
        "2027-02-01T09:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
    let morning = shifts(
        &app,
        &slot(&app, 1, "07:00", "09:00", 3, from, to, vec![], vec![]).await,
    )
    .await;
    assert_eq!(morning[1]["date"], "2027-02-01");
    assert_eq!(
        instant(&morning[1]["startsAt"]),
        "2027-01-31T23:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
    assert_eq!(
        instant(&morning[1]["endsAt"]),
        "2027-02-01T01:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
    assert_eq!(
        instant(&morning[0]["startsAt"]),
        "2027-01-24T23:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
}

#[tokio::test]
async fn ineligible_students_are_refused_with_the_right_code() {
    let app = TestApp::with_demo().await;
    let soon = day(5);
    let wd = soon.weekday().number_from_monday();
    // No listed organisations: eligibility comes from the ACTIVE agreement between the student
    // branch (7) and 汇通社区居民党支部.
    let open = slot(
        &app,
        wd,
        "09:00",
        "11:00",
        10,
        day(-60),
        day(60),
        vec![],
        vec![],
    )
    .await;
    let all = shifts(&app, &open).await;
    let future: Vec<&Value> = all
        .iter()
        .filter(|s| instant(&s["startsAt"]) > api::core::clock::now())
        .collect();
    let past: Vec<&Value> = all
        .iter()
        .filter(|s| instant(&s["endsAt"]) < api::core::clock::now())
        .collect();
    let (_, eligible) = app.quick_user("eligible", &student(7)).await;
    ok(&app
        .gql(Some(&eligible), SIGN_UP, json!({"s": future[0]["id"]}))
        .await);
    // Same shift twice, and an overlapping shift of another slot: CONFLICT.
    assert_code(
        &app.gql(Some(&eligible), SIGN_UP, json!({"s": future[0]["id"]}))
            .await,
        "CONFLICT",
    );
    let start_day =
        chrono::NaiveDate::parse_from_str(future[0]["date"].as_str().expect("date"), "%Y-%m-%d")
            .expect("date");
    let clash = slot(
        &app,
        start_day.weekday().number_from_monday(),
        "10:00",
        "12:00",
        10,
        start_day,
        start_day,
        vec![],
        vec!["7".into()],
    )
    .await;
    assert_code(
        &app.gql(
            Some(&eligible),
            SIGN_UP,
            json!({"s": shifts(&app, &clash).await[0]["id"]}),
        )
        .await,
        "CONFLICT",
    );
    // A shift that has started: INVALID_STATE.
    assert_code(
        &app.gql(Some(&eligible), SIGN_UP, json!({"s": past[0]["id"]}))
            .await,
        "INVALID_STATE",
    );
    // A student of an organisation without an agreement: FORBIDDEN.
    let org = app.gql(Some(&app.login("admin").await), "mutation { createOrganization(input: {name: \"外校党支部\", kind: BRANCH}) { organization { id } } }", json!({})).await;
    let org: i64 = ok(&org)["createOrganization"]["organization"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("id");
    let (_, outsider) = app.quick_user("outsider", &student(org)).await;
    assert_code(
        &app.gql(Some(&outsider), SIGN_UP, json!({"s": future[1]["id"]}))
            .await,
        "FORBIDDEN",
    );
    // Not a student at all: FORBIDDEN.
    assert_code(
        &app.gql(
            Some(&app.login("member1").await),
            SIGN_UP,
            json!({"s": future[1]["id"]}),
        )
        .await,
        "FORBIDDEN",
    );
    // Two no-shows in the validity period block new sign-ups.
    let (uid, flaky) = app.quick_user("flaky", &student(7)).await;
    for s in past.iter().take(2) {
        let sid: i64 = s["id"].as_str().expect("id").parse().expect("id");
        entity::shift_signup::ActiveModel {
            shift_id: Set(sid),
            student_id: Set(uid),
            status: Set(entity::shift_signup::SignupStatus::NoShow),
            signed_up_at: Set(api::core::clock::now() - Duration::days(30)),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("no-show");
    }
    assert_code(
        &app.gql(Some(&flaky), SIGN_UP, json!({"s": future[1]["id"]}))
            .await,
        "FORBIDDEN",
    );
    // When the agreement ends, eligibility through it ends too.
    let admin = app.login("admin").await;
    ok(&app.gql(Some(&admin), "mutation { terminateAgreement(input: {agreementId: \"1\", reason: \"学期结束\"}) { agreement { status } } }", json!({})).await);
    assert_code(
        &app.gql(Some(&eligible), SIGN_UP, json!({"s": future[1]["id"]}))
            .await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn check_out_after_a_three_hour_shift_credits_three_hours_and_points_once() {
    let app = TestApp::with_demo().await;
    let soon = day(4);
    let id = slot(
        &app,
        soon.weekday().number_from_monday(),
        "14:00",
        "17:00",
        3,
        soon,
        soon,
        vec![],
        vec!["7".into()],
    )
    .await;
    let shift_id = shifts(&app, &id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (uid, token) = app.quick_user("worker-bee", &student(7)).await;
    let v = app.gql(Some(&token), SIGN_UP, json!({"s": shift_id})).await;
    let signup = ok(&v)["signUpForShift"]["signup"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Cancelling is still possible days ahead, but let us keep it; time passes: the shift
    // took place yesterday afternoon.
    let start = api::core::clock::now() - Duration::hours(30);
    let row = shift::Entity::find_by_id(shift_id.parse::<i64>().expect("id"))
        .one(app.db())
        .await
        .expect("db")
        .expect("shift");
    let mut am: shift::ActiveModel = row.into();
    am.starts_at = Set(start);
    am.ends_at = Set(start + Duration::hours(3));
    am.update(app.db()).await.expect("move shift");
    let grid = app.login("grid").await;
    let check_in = "mutation($s: ID!, $at: DateTime) { checkIn(input: {signupId: $s, at: $at}) { signup { status checkedInAt } } }";
    let check_out = "mutation($s: ID!, $at: DateTime) { checkOut(input: {signupId: $s, at: $at}) { signup { status hours } } }";
    // Checking out before checking in is an invalid state.
    assert_code(
        &app.gql(
            Some(&grid),
            check_out,
            json!({"s": signup, "at": (start + Duration::hours(3)).to_rfc3339()}),
        )
        .await,
        "INVALID_STATE",
    );
    let v = app
        .gql(
            Some(&grid),
            check_in,
            json!({"s": signup, "at": start.to_rfc3339()}),
        )
        .await;
    assert_eq!(ok(&v)["checkIn"]["signup"]["status"], "CHECKED_IN");
    // Checked out 20 minutes late: capped at the shift's 3 hours.
    let out_at = (start + Duration::minutes(200)).to_rfc3339();
    let results = futures::future::join_all(
        (0..2).map(|_| app.gql(Some(&grid), check_out, json!({"s": signup, "at": out_at}))),
    )
    .await;
    let done: Vec<&Value> = results
        .iter()
        .filter(|v| v.get("errors").is_none())
        .collect();
    assert_eq!(done.len(), 1, "{results:?}");
    assert_eq!(done[0]["data"]["checkOut"]["signup"]["hours"], 3.0);
    assert!(
        results
            .iter()
            .any(|v| error_code(v) == Some("INVALID_STATE"))
    );
    let v = app
        .gql(Some(&grid), check_out, json!({"s": signup, "at": out_at}))
        .await;
    assert_code(&v, "INVALID_STATE");
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Source.eq(entity::ledger_entry::EntrySource::Shift))
        .filter(ledger_entry::Column::SourceId.eq(signup.parse::<i64>().expect("id")))
        .all(app.db())
        .await
        .expect("db");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].amount, 15, "3 hours × 5 points");
    let v = app
        .gql(Some(&token), "{ myPassbook { balance } }", json!({}))
        .await;
    assert_eq!(ok(&v)["myPassbook"]["balance"], 15);
    let v = app
        .gql(Some(&token), "query($id: ID!, $f: Date!, $t: Date!) { hoursCertificate(studentId: $id, from: $f, to: $t) { totalHours totalShifts communities { community { name } hours } } }", json!({"id": uid.to_string(), "f": day(-10).to_string(), "t": day(10).to_string()}))
        .await;
    let c = &ok(&v)["hoursCertificate"];
    assert_eq!(c["totalHours"], 3.0);
    assert_eq!(c["communities"][0]["community"]["name"], "汇通社区");
}

#[tokio::test]
async fn cancellation_closes_before_the_start_and_frees_the_place() {
    let app = TestApp::with_demo().await;
    let soon = day(6);
    let id = slot(
        &app,
        soon.weekday().number_from_monday(),
        "14:00",
        "17:00",
        1,
        soon,
        soon,
        vec![],
        vec!["7".into()],
    )
    .await;
    let shift_id = shifts(&app, &id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, a) = app.quick_user("stu-a", &student(7)).await;
    let (_, b) = app.quick_user("stu-b", &student(7)).await;
    let v = app.gql(Some(&a), SIGN_UP, json!({"s": shift_id})).await;
    let signup = ok(&v)["signUpForShift"]["signup"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_code(
        &app.gql(Some(&b), SIGN_UP, json!({"s": shift_id})).await,
        "CONFLICT",
    );
    let cancel =
        "mutation($s: ID!) { cancelShiftSignup(input: {signupId: $s}) { signup { status } } }";
    assert_code(
        &app.gql(Some(&b), cancel, json!({"s": signup})).await,
        "FORBIDDEN",
    );
    let v = app.gql(Some(&a), cancel, json!({"s": signup})).await;
    assert_eq!(ok(&v)["cancelShiftSignup"]["signup"]["status"], "CANCELLED");
    assert_eq!(shifts(&app, &id).await[0]["taken"], 0);
    let v = app.gql(Some(&b), SIGN_UP, json!({"s": shift_id})).await;
    let b_signup = ok(&v)["signUpForShift"]["signup"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Six hours before the start, cancelling is closed (12 hours by default).
    let row = shift::Entity::find_by_id(shift_id.parse::<i64>().expect("id"))
        .one(app.db())
        .await
        .expect("db")
        .expect("shift");
    let mut am: shift::ActiveModel = row.into();
    am.starts_at = Set(api::core::clock::now() + Duration::hours(6));
    am.ends_at = Set(api::core::clock::now() + Duration::hours(9));
    am.update(app.db()).await.expect("move shift");
    assert_code(
        &app.gql(Some(&b), cancel, json!({"s": b_signup})).await,
        "INVALID_STATE",
    );
}

#[tokio::test]
async fn the_calendar_feed_lists_upcoming_shifts_and_dies_with_rotation() {
    let app = TestApp::with_demo().await;
    let student1 = app.login("student1").await;
    let from = day(1);
    let id = slot(
        &app,
        from.weekday().number_from_monday(),
        "19:00",
        "20:30",
        5,
        from,
        from + Duration::weeks(2),
        vec![],
        vec!["7".into()],
    )
    .await;
    let v = app.gql(Some(&student1), SERIES, json!({"s": id})).await;
    let taken = ok(&v)["signUpForSeries"]["takenCount"]
        .as_i64()
        .expect("count");
    assert_eq!(taken, 3);
    let v = app
        .gql(
            Some(&student1),
            "mutation { rotateCalendarToken { token path } }",
            json!({}),
        )
        .await;
    let path = ok(&v)["rotateCalendarToken"]["path"]
        .as_str()
        .expect("path")
        .to_owned();
    let fetch = |p: String| {
        let app = &app;
        async move {
            app.send(Request::get(p).body(Body::empty()).expect("request"))
                .await
        }
    };
    let (status, body) = fetch(path.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).expect("utf-8");
    let cal: icalendar::Calendar = text.parse().expect("valid iCalendar");
    let events: Vec<&icalendar::Event> =
        cal.components.iter().filter_map(|c| c.as_event()).collect();
    // Upcoming: the demo's next shift plus the three just taken.
    let v = app.gql(Some(&student1), "query($f: Date!, $t: Date!) { mySchedule(from: $f, to: $t) { status shift { startsAt } } }", json!({"f": day(0).to_string(), "t": day(400).to_string()})).await;
    let upcoming = ok(&v)["mySchedule"]
        .as_array()
        .expect("schedule")
        .iter()
        .filter(|s| instant(&s["shift"]["startsAt"]) > api::core::clock::now())
        .count();
    assert_eq!(events.len(), upcoming);
    assert_eq!(upcoming, 4);
    use icalendar::Component;
    for e in &events {
        let raw = e.property_value("DTSTART").expect("start");
        assert!(raw.ends_with('Z'), "UTC time: {raw}");
        assert!(
            e.get_uid()
                .is_some_and(|u| u.starts_with("lianxin-signup-"))
        );
    }
    let (_, again) = fetch(path.clone()).await;
    let again: icalendar::Calendar = String::from_utf8(again)
        .expect("utf-8")
        .parse()
        .expect("valid");
    let uids = |c: &icalendar::Calendar| {
        let mut u: Vec<String> = c
            .components
            .iter()
            .filter_map(|x| x.as_event())
            .filter_map(|e| e.get_uid().map(str::to_owned))
            .collect();
        u.sort();
        u
    };
    assert_eq!(uids(&cal), uids(&again), "stable UIDs");
    ok(&app
        .gql(
            Some(&student1),
            "mutation { rotateCalendarToken { token } }",
            json!({}),
        )
        .await);
    let (status, _) = fetch(path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listing_100_shifts_runs_as_many_statements_as_listing_10() {
    let app = TestApp::with_demo().await;
    let a = slot(
        &app,
        2,
        "09:00",
        "11:00",
        5,
        day(1),
        day(360),
        vec![],
        vec!["7".into()],
    )
    .await;
    slot(
        &app,
        4,
        "09:00",
        "11:00",
        5,
        day(1),
        day(360),
        vec![],
        vec!["7".into()],
    )
    .await;
    for i in 0..4 {
        let (_, t) = app.quick_user(&format!("lister{i}"), &student(7)).await;
        ok(&app.gql(Some(&t), SERIES, json!({"s": a})).await);
    }
    let staff = app.login("staff").await;
    let q = "query($n: Int!) { shifts(first: $n) { totalCount nodes { date startsAt taken freePlaces slot { title community { name } grid { name } } signups { status studentName student { displayName } } } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let (count, v) = app.statements_of(Some(&staff), q, json!({"n": n})).await;
        assert_eq!(ok(&v)["shifts"]["nodes"].as_array().map(Vec::len), Some(n));
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 shifts: {counts:?}"
    );
}

#[tokio::test]
async fn names_and_certificates_are_shown_by_role() {
    let app = TestApp::with_demo().await;
    let q = "{ shifts(slotId: \"1\", first: 100) { nodes { signups { studentName student { username } } } } }";
    let names = |v: &Value| -> Vec<String> {
        ok(v)["shifts"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .flat_map(|n| n["signups"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s["studentName"].as_str().map(str::to_owned))
            .collect()
    };
    let anon = app.gql(None, q, json!({})).await;
    assert!(
        names(&anon).iter().all(|n| n == "林**"),
        "{:?}",
        names(&anon)
    );
    let grid = app.login("grid").await;
    let v = app.gql(Some(&grid), q, json!({})).await;
    assert!(names(&v).iter().all(|n| n == "林小舟"));
    assert_eq!(names(&v).len(), 4);
    // Certificate: student1 served three 3-hour shifts in the demo.
    let cert = "query($id: ID!, $f: Date!, $t: Date!) { hoursCertificate(studentId: $id, from: $f, to: $t) { totalHours totalShifts communities { community { name } hours shifts } } }";
    let vars = json!({"id": "15", "f": day(-100).to_string(), "t": day(0).to_string()});
    for who in ["student1", "rep-school", "staff", "admin"] {
        let t = app.login(who).await;
        let v = app.gql(Some(&t), cert, vars.clone()).await;
        let c = &ok(&v)["hoursCertificate"];
        assert_eq!(c["totalHours"], 9.0, "{who}");
        assert_eq!(c["totalShifts"], 3);
        assert_eq!(c["communities"][0]["community"]["name"], "汇通社区");
    }
    for who in ["member1", "rep-power", "resident1"] {
        let t = app.login(who).await;
        assert_code(&app.gql(Some(&t), cert, vars.clone()).await, "FORBIDDEN");
    }
    let t = app.login("student1").await;
    let v = app
        .gql(
            Some(&t),
            "{ serviceSlots(openForMe: true) { totalCount nodes { title weekday startTime } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["serviceSlots"]["totalCount"], 1);
    assert_eq!(ok(&v)["serviceSlots"]["nodes"][0]["weekday"], 3);
}

/// A sign-up racing a change of the slot's times: exactly one wins, a student never holds
/// two overlapping shifts, and the slot and its shifts always agree.
#[tokio::test]
async fn a_sign_up_racing_a_time_change_never_leaves_an_overlap() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let update = "mutation($s: ID!) { updateServiceSlot(input: {slotId: $s, startTime: \"16:30\", endTime: \"18:30\"}) { slot { startTime } } }";
    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..8 {
        let d = day(3 + round * 7);
        let wd = d.weekday().number_from_monday();
        let a = slot(
            &app,
            wd,
            "14:00",
            "16:00",
            3,
            d,
            d,
            vec![],
            vec!["7".into()],
        )
        .await;
        let b = slot(
            &app,
            wd,
            "17:00",
            "19:00",
            3,
            d,
            d,
            vec![],
            vec!["7".into()],
        )
        .await;
        let (_, stu) = app.quick_user(&format!("racer{round}"), &student(7)).await;
        let b_shift = shifts(&app, &b).await[0]["id"].clone();
        let v = app.gql(Some(&stu), SIGN_UP, json!({"s": b_shift})).await;
        assert_eq!(ok(&v)["signUpForShift"]["signup"]["status"], "SIGNED_UP");
        let a_shift = shifts(&app, &a).await[0]["id"].clone();
        let (signed, moved) = tokio::join!(
            app.gql(Some(&stu), SIGN_UP, json!({"s": a_shift})),
            app.gql(Some(&staff), update, json!({"s": a})),
        );
        let won = (
            signed.get("errors").is_none(),
            moved.get("errors").is_none(),
        );
        assert!(
            won != (true, true),
            "both won in round {round}: {signed} {moved}"
        );
        assert!(
            won != (false, false),
            "neither won in round {round}: {signed} {moved}"
        );
        if !won.0 {
            assert_code(&signed, "CONFLICT");
        } else {
            assert_code(&moved, "CONFLICT");
        }
        *outcomes.entry(won).or_insert(0) += 1;
        // The slot and its shift agree, whoever won.
        let v = app
            .gql(None, "query($s: ID!) { shifts(slotId: $s) { nodes { startsAt endsAt taken slot { startTime endTime } } } }", json!({"s": a}))
            .await;
        let n = &ok(&v)["shifts"]["nodes"][0];
        let local = |t: &Value| {
            instant(t)
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%H:%M")
                .to_string()
        };
        assert_eq!(
            local(&n["startsAt"]),
            n["slot"]["startTime"].as_str().expect("start")
        );
        assert_eq!(
            local(&n["endsAt"]),
            n["slot"]["endTime"].as_str().expect("end")
        );
        // No overlap for the student.
        let mine = app
            .gql(Some(&stu), "query($f: Date!, $t: Date!) { mySchedule(from: $f, to: $t) { status shift { startsAt endsAt } } }", json!({"f": d.to_string(), "t": d.to_string()}))
            .await;
        let rows = ok(&mine)["mySchedule"]
            .as_array()
            .expect("schedule")
            .clone();
        for (i, x) in rows.iter().enumerate() {
            for y in rows.iter().skip(i + 1) {
                let overlap = instant(&x["shift"]["startsAt"]) < instant(&y["shift"]["endsAt"])
                    && instant(&y["shift"]["startsAt"]) < instant(&x["shift"]["endsAt"]);
                assert!(!overlap, "round {round}: {rows:?}");
            }
        }
    }
    eprintln!("sign-up vs time change outcomes: {outcomes:?}");
}

/// Statements of a sign-up and of its cancellation (the viewer cached, as on a server in
/// use): the cancellation within the write budget of 6; the sign-up, whose rules need its
/// shift and slot, the student's eligibility, no-shows and clashes, within 9 on SQLite and
/// 11 on PostgreSQL (which also locks the student and the shift, and notifies).
#[tokio::test]
async fn sign_up_and_cancel_statement_budgets() {
    let app = TestApp::with_demo().await;
    let soon = day(10);
    let id = slot(
        &app,
        soon.weekday().number_from_monday(),
        "09:00",
        "11:00",
        3,
        soon,
        soon,
        vec![],
        vec!["7".into()],
    )
    .await;
    let shift_id = shifts(&app, &id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, token) = app.quick_user("budget-bee", &student(7)).await;
    ok(&app.gql(Some(&token), "{ me { id } }", json!({})).await);
    let before = app.statements();
    let v = app
        .gql(
            Some(&token),
            "mutation($s: ID!) { signUpForShift(input: {shiftId: $s}) { signup { id } } }",
            json!({"s": shift_id}),
        )
        .await;
    let sign_up = app.statements() - before;
    let signup = ok(&v)["signUpForShift"]["signup"]["id"].clone();
    // The viewer, the audit entry, the shift with its slot, eligibility and no-shows (and
    // the locks on PostgreSQL), the conditional update, the insert, and on PostgreSQL the
    // event's record (its cursor, for a resumed subscription; on PostgreSQL with its NOTIFY,
    // in one statement).
    assert!(sign_up <= 6, "signUpForShift ran {sign_up} statements");
    let before = app.statements();
    let v = app
        .gql(
            Some(&token),
            "mutation($s: ID!) { cancelShiftSignup(input: {signupId: $s}) { signup { status } } }",
            json!({"s": signup}),
        )
        .await;
    let cancel = app.statements() - before;
    assert_eq!(ok(&v)["cancelShiftSignup"]["signup"]["status"], "CANCELLED");
    assert!(cancel <= 6, "cancelShiftSignup ran {cancel} statements");
}
