//! Fills a fresh, migrated database with a realistic volume, with bulk INSERTs (ids are
//! assigned in insertion order from 1, which the load phases rely on).

use anyhow::Result;
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

pub const COMMUNITIES: i64 = 20;
pub const GRIDS_PER_COMMUNITY: i64 = 20;
pub const TOP_GRIDS: i64 = COMMUNITIES * GRIDS_PER_COMMUNITY;
pub const USERS: i64 = 20_000;
pub const STAFF_FIRST: i64 = 2;
pub const WORKERS_FIRST: i64 = 42;
pub const MEMBERS_FIRST: i64 = 842;
/// Members from here on hold no seeded claims; the benchmark claims with them.
pub const FREE_MEMBERS_FIRST: i64 = 4_842;
pub const STUDENTS_FIRST: i64 = 5_842;
pub const RESIDENTS_FIRST: i64 = 6_842;
pub const WISHES: i64 = 5_000;
pub const PASSBOOKS: i64 = 2_000;
pub const ENTRIES_PER_PASSBOOK: i64 = 25;
pub const SLOTS: i64 = 100;
pub const STUDENT_ORG: i64 = COMMUNITIES + 1;

pub struct Seeded {
    /// Ids of PUBLISHED wishes.
    pub published: Vec<i64>,
    /// Future shifts (start at least two days ahead).
    pub shifts: Vec<i64>,
}

pub fn community_of_user(id: i64) -> i64 {
    id % COMMUNITIES + 1
}

async fn insert(db: &DatabaseConnection, table: &str, cols: &str, rows: &[String]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", chunk.join(","));
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Seeds `scale` times the base volume into a fresh, migrated database: the places, staff,
/// grid workers, members, students and rewards as they are; the residents, wishes,
/// passbooks with their ledgers, and service slots grow with the factor.
pub async fn seed(db: &DatabaseConnection, password_hash: &str, scale: i64) -> Result<Seeded> {
    let now = Utc::now();
    let ts = format!("'{}'", now.to_rfc3339());
    let today = api::core::validate::today();
    let backend = db.get_database_backend();
    let t = if backend == DbBackend::Postgres {
        "TRUE"
    } else {
        "1"
    };

    insert(
        db,
        "streets",
        "name, phone, created_at",
        &[format!("('基准街道', '025-80000000', {ts})")],
    )
    .await?;
    let communities: Vec<String> = (1..=COMMUNITIES)
        .map(|c| format!("(1, '社区{c}', '025-8000{c:04}', '地址{c}', {ts})"))
        .collect();
    insert(
        db,
        "communities",
        "street_id, name, phone, address, created_at",
        &communities,
    )
    .await?;
    let mut orgs: Vec<String> = (1..=COMMUNITIES)
        .map(|c| format!("('社区{c}党委', 'PARTY_COMMITTEE', NULL, {c}, {ts})"))
        .collect();
    orgs.push(format!("('基准大学学生党支部', 'BRANCH', NULL, 1, {ts})"));
    insert(
        db,
        "organizations",
        "name, kind, parent_id, community_id, created_at",
        &orgs,
    )
    .await?;

    let mut grids = Vec::new();
    for g in 1..=TOP_GRIDS {
        let c = (g - 1) / GRIDS_PER_COMMUNITY + 1;
        let kind = if (g - 1) % GRIDS_PER_COMMUNITY < 15 {
            "COMPREHENSIVE"
        } else {
            "DEDICATED"
        };
        grids.push(format!(
            "({c}, NULL, '网格{g}', '{kind}', {}, NULL, {ts})",
            300 + g % 200
        ));
    }
    for g in 1..=TOP_GRIDS {
        if (g - 1) % GRIDS_PER_COMMUNITY < 15 {
            let c = (g - 1) / GRIDS_PER_COMMUNITY + 1;
            grids.push(format!(
                "({c}, {g}, '网格{g}微网格', 'MICRO', 50, NULL, {ts})"
            ));
        }
    }
    insert(
        db,
        "grids",
        "community_id, parent_id, name, kind, households, description, created_at",
        &grids,
    )
    .await?;

    let mut users = Vec::new();
    let mut roles = Vec::new();
    for id in 1..=USERS * scale {
        users.push(format!(
            "('u{id}', '用户{id}', '138{id:08}', NULL, '{password_hash}', {t}, {ts})"
        ));
        let role = if id == 1 {
            "'ADMIN', NULL, NULL, NULL".to_owned()
        } else if id < WORKERS_FIRST {
            format!(
                "'COMMUNITY_STAFF', {}, NULL, NULL",
                (id - STAFF_FIRST) / 2 + 1
            )
        } else if id < MEMBERS_FIRST {
            format!(
                "'GRID_WORKER', NULL, {}, NULL",
                (id - WORKERS_FIRST) / 2 + 1
            )
        } else if id < STUDENTS_FIRST {
            format!("'PARTY_MEMBER', {}, NULL, NULL", community_of_user(id))
        } else if id < RESIDENTS_FIRST {
            format!("'STUDENT', NULL, NULL, {STUDENT_ORG}")
        } else {
            format!("'RESIDENT', {}, NULL, NULL", community_of_user(id))
        };
        roles.push(format!("({id}, {role}, {ts})"));
    }
    insert(
        db,
        "users",
        "username, display_name, phone, avatar_url, password_hash, active, created_at",
        &users,
    )
    .await?;
    insert(
        db,
        "role_assignments",
        "user_id, role, community_id, grid_id, organization_id, created_at",
        &roles,
    )
    .await?;
    let mut staff = Vec::new();
    for g in 1..=TOP_GRIDS {
        let leader = WORKERS_FIRST + 2 * (g - 1);
        staff.push(format!(
            "({g}, {leader}, 'LEADER', '2026-01-01', NULL, {ts})"
        ));
        staff.push(format!(
            "({g}, {}, 'WORKER', '2026-01-01', NULL, {ts})",
            leader + 1
        ));
    }
    insert(
        db,
        "grid_staff",
        "grid_id, user_id, role, start_date, end_date, created_at",
        &staff,
    )
    .await?;

    // Wishes in every status.
    let mut wishes = Vec::new();
    let mut claims = Vec::new();
    let mut published = Vec::new();
    for w in 1..=WISHES * scale {
        let grid = (w * 7919) % TOP_GRIDS + 1;
        let c = (grid - 1) / GRIDS_PER_COMMUNITY + 1;
        let resident = RESIDENTS_FIRST + (w * 31) % (USERS * scale - RESIDENTS_FIRST);
        let claimant = MEMBERS_FIRST + (w % (FREE_MEMBERS_FIRST - MEMBERS_FIRST));
        let (status, claimant_sql, extra) = match w % 20 {
            0..=7 => ("PUBLISHED", "NULL".to_owned(), ("NULL", "NULL")),
            8..=11 => ("CLAIMED", claimant.to_string(), ("NULL", "NULL")),
            12 | 13 => ("FULFILLED", claimant.to_string(), ("NULL", "NULL")),
            14..=16 => ("CONFIRMED", claimant.to_string(), ("5", "NULL")),
            17 => ("PENDING_REVIEW", "NULL".to_owned(), ("NULL", "NULL")),
            18 => ("REJECTED", "NULL".to_owned(), ("NULL", "'不符合条件'")),
            _ => ("CANCELLED", "NULL".to_owned(), ("NULL", "NULL")),
        };
        if status == "PUBLISHED" {
            published.push(w);
        }
        if claimant_sql != "NULL" {
            let st = if status == "CONFIRMED" {
                "COMPLETED"
            } else {
                "ACTIVE"
            };
            let ended = if st == "ACTIVE" {
                "NULL".to_owned()
            } else {
                ts.clone()
            };
            claims.push(format!("({w}, {claimant}, '{st}', {ts}, {ended}, NULL)"));
        }
        wishes.push(format!(
            "({c}, {grid}, '心愿{w}', '描述{w}', 'GOODS', {resident}, {resident}, '王秀英{w}', '139{w:08}', '地址{w}', 50, NULL, '{status}', {claimant_sql}, {reason}, {rating}, {ts}, {ts})",
            reason = extra.1,
            rating = extra.0,
        ));
    }
    insert(
        db,
        "wishes",
        "community_id, grid_id, title, description, category, submitted_by, beneficiary_user_id, beneficiary_name, beneficiary_phone, beneficiary_address, estimated_value, deadline, status, claimant_id, review_reason, rating, created_at, updated_at",
        &wishes,
    )
    .await?;
    insert(
        db,
        "wish_claims",
        "wish_id, member_id, status, claimed_at, ended_at, release_reason",
        &claims,
    )
    .await?;

    // Passbooks with history, and rewards with deep stock.
    let mut books = Vec::new();
    let mut entries = Vec::new();
    for b in 1..=PASSBOOKS * scale {
        let holder = RESIDENTS_FIRST + b - 1;
        let c = community_of_user(holder);
        books.push(format!(
            "({holder}, {c}, NULL, 'DD-{c:04}-{holder:08}', '2026-01-01', 'ACTIVE', {}, {ts})",
            10_000 * ENTRIES_PER_PASSBOOK
        ));
        for e in 1..=ENTRIES_PER_PASSBOOK {
            entries.push(format!(
                "({b}, 10000, 'EARN', 'MANUAL', NULL, '历史积分{e}', 1, {}, NULL, {ts})",
                10_000 * e
            ));
        }
    }
    insert(
        db,
        "passbooks",
        "holder_id, community_id, grid_id, number, opened_on, status, balance, created_at",
        &books,
    )
    .await?;
    insert(
        db,
        "ledger_entries",
        "passbook_id, amount, kind, source, source_id, memo, operator_id, balance_after, reverses_entry_id, created_at",
        &entries,
    )
    .await?;
    let rewards: Vec<String> = (1..=COMMUNITIES)
        .flat_map(|c| {
            let ts = ts.clone();
            [
                format!("({c}, '毛巾{c}', NULL, 1, 10000000, {t}, {ts})"),
                format!("({c}, '洗衣液{c}', NULL, 2, 10000000, {t}, {ts})"),
            ]
        })
        .collect();
    insert(
        db,
        "rewards",
        "community_id, name, description, cost, stock, active, created_at",
        &rewards,
    )
    .await?;

    // Service slots for the students' organisation, with their shifts.
    let first_day = today + Duration::days(2);
    let last_day = first_day + Duration::days(90);
    let mut slots = Vec::new();
    let mut eligible = Vec::new();
    let mut shifts = Vec::new();
    for s in 1..=SLOTS * scale {
        let c = (s - 1) % COMMUNITIES + 1;
        let weekday = (s % 7 + 1) as u32;
        let hour = 8 + (s % 10) as u32;
        slots.push(format!(
            "({c}, NULL, '助理排班{s}', '[\"入户走访\"]', {weekday}, '{hour:02}:00', '{:02}:00', 1000, '{first_day}', '{last_day}', '[]', 1, {ts})",
            hour + 2
        ));
        eligible.push(format!("({s}, {STUDENT_ORG})"));
        let wd = match weekday {
            1 => chrono::Weekday::Mon,
            2 => chrono::Weekday::Tue,
            3 => chrono::Weekday::Wed,
            4 => chrono::Weekday::Thu,
            5 => chrono::Weekday::Fri,
            6 => chrono::Weekday::Sat,
            _ => chrono::Weekday::Sun,
        };
        for d in api::schedule::rules::occurrences(wd, first_day, last_day, &[]) {
            let start = chrono::NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default();
            let end = chrono::NaiveTime::from_hms_opt(hour + 2, 0, 0).unwrap_or_default();
            shifts.push(format!(
                "({s}, '{d}', '{}', '{}', 1000, 0)",
                api::schedule::rules::local_instant(d, start).to_rfc3339(),
                api::schedule::rules::local_instant(d, end).to_rfc3339()
            ));
        }
    }
    insert(
        db,
        "service_slots",
        "community_id, grid_id, title, tasks, weekday, start_time, end_time, capacity, valid_from, valid_to, skipped_dates, created_by, created_at",
        &slots,
    )
    .await?;
    insert(
        db,
        "slot_eligible_organizations",
        "slot_id, organization_id",
        &eligible,
    )
    .await?;
    insert(
        db,
        "shifts",
        "slot_id, date, starts_at, ends_at, capacity, taken",
        &shifts,
    )
    .await?;
    Ok(Seeded {
        published,
        shifts: (1..=shifts.len() as i64).collect(),
    })
}
