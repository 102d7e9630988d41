use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000003_create_incidents"
    }
}

/// Incidents found in a grid (网格吹哨、部门报到) and every step of each, with actor and time.
/// The status machine is held by the rules (conditional updates) and by the database: a
/// dispatched, accepted, handled or reopened incident names its organisation and deadline; a
/// closed one has its rating; a step's statuses are valid ones. `overdue_notified_at` is when
/// the OVERDUE event of the current dispatch was published (cleared by a new dispatch), so
/// that it is published once.
const UP: &str = r#"
CREATE TABLE incidents (
    id {id},
    grid_id BIGINT NOT NULL REFERENCES grids(id),
    community_id BIGINT NOT NULL REFERENCES communities(id),
    location TEXT NOT NULL CHECK (length(location) > 0),
    category TEXT NOT NULL CHECK (category IN ('BLOCKAGE', 'PAIN', 'BLIND_SPOT', 'PRIORITY', 'HIDDEN_RISK')),
    subject TEXT NOT NULL CHECK (subject IN ('SAFETY', 'ENVIRONMENT', 'UTILITIES', 'NEIGHBOUR_DISPUTE', 'ELDERLY_CARE', 'OTHER')),
    description TEXT NOT NULL CHECK (length(description) > 0),
    urgency TEXT NOT NULL CHECK (urgency IN ('NORMAL', 'URGENT', 'CRITICAL')),
    reported_by BIGINT NOT NULL REFERENCES users(id),
    raised_by BIGINT REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('REPORTED', 'RESOLVED_ON_SITE', 'WHISTLED', 'DISPATCHED', 'ACCEPTED', 'HANDLED', 'CLOSED', 'REOPENED')),
    organization_id BIGINT REFERENCES organizations(id),
    deadline {ts},
    resolution TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    overdue_notified_at {ts},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CHECK (status NOT IN ('DISPATCHED', 'ACCEPTED', 'HANDLED', 'REOPENED') OR (organization_id IS NOT NULL AND deadline IS NOT NULL)),
    CHECK (status <> 'CLOSED' OR rating IS NOT NULL),
    CHECK (raised_by IS NULL OR raised_by <> reported_by)
);
CREATE INDEX incidents_community ON incidents(community_id, id);
CREATE INDEX incidents_grid ON incidents(grid_id, id);
CREATE INDEX incidents_organization ON incidents(organization_id, id);
CREATE INDEX incidents_raised_by ON incidents(raised_by);
CREATE TABLE incident_steps (
    id {id},
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    from_status TEXT CHECK (from_status IN ('REPORTED', 'RESOLVED_ON_SITE', 'WHISTLED', 'DISPATCHED', 'ACCEPTED', 'HANDLED', 'CLOSED', 'REOPENED')),
    to_status TEXT NOT NULL CHECK (to_status IN ('REPORTED', 'RESOLVED_ON_SITE', 'WHISTLED', 'DISPATCHED', 'ACCEPTED', 'HANDLED', 'CLOSED', 'REOPENED')),
    actor_id BIGINT NOT NULL REFERENCES users(id),
    organization_id BIGINT REFERENCES organizations(id),
    note TEXT,
    created_at {ts} NOT NULL
);
CREATE INDEX incident_steps_incident ON incident_steps(incident_id, id);
"#;

const DOWN: &str = r#"
DROP TABLE incident_steps;
DROP TABLE incidents;
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
