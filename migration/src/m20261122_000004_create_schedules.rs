use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000004_create_schedules"
    }
}

const UP: &str = r#"
CREATE TABLE service_slots (
    id {id},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    grid_id BIGINT REFERENCES grids(id),
    title TEXT NOT NULL CHECK (length(title) > 0),
    tasks TEXT NOT NULL,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    valid_from {date} NOT NULL,
    valid_to {date} NOT NULL,
    skipped_dates TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL,
    CHECK (valid_to >= valid_from),
    CHECK (end_time > start_time)
);
CREATE INDEX service_slots_community ON service_slots(community_id);
CREATE TABLE slot_eligible_organizations (
    id {id},
    slot_id BIGINT NOT NULL REFERENCES service_slots(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    UNIQUE (slot_id, organization_id)
);
CREATE TABLE shifts (
    id {id},
    slot_id BIGINT NOT NULL REFERENCES service_slots(id),
    date {date} NOT NULL,
    starts_at {ts} NOT NULL,
    ends_at {ts} NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    taken INTEGER NOT NULL DEFAULT 0,
    UNIQUE (slot_id, date),
    CHECK (ends_at > starts_at),
    CHECK (taken >= 0 AND taken <= capacity)
);
CREATE INDEX shifts_starts ON shifts(starts_at);
CREATE TABLE shift_signups (
    id {id},
    shift_id BIGINT NOT NULL REFERENCES shifts(id),
    student_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('SIGNED_UP', 'CANCELLED', 'CHECKED_IN', 'COMPLETED', 'NO_SHOW')),
    signed_up_at {ts} NOT NULL,
    cancelled_at {ts},
    checked_in_at {ts},
    checked_out_at {ts},
    attendance_by BIGINT REFERENCES users(id),
    minutes INTEGER CHECK (minutes IS NULL OR minutes >= 0),
    CHECK (status <> 'COMPLETED' OR (checked_in_at IS NOT NULL AND checked_out_at IS NOT NULL AND minutes IS NOT NULL)),
    CHECK (status <> 'CHECKED_IN' OR checked_in_at IS NOT NULL)
);
CREATE UNIQUE INDEX shift_signups_one_per_student ON shift_signups(shift_id, student_id) WHERE status <> 'CANCELLED';
CREATE INDEX shift_signups_student ON shift_signups(student_id, status);
CREATE TABLE calendar_tokens (
    id {id},
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    token TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL
);
"#;

const DOWN: &str = r#"
DROP TABLE calendar_tokens;
DROP TABLE shift_signups;
DROP TABLE shifts;
DROP TABLE slot_eligible_organizations;
DROP TABLE service_slots;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
