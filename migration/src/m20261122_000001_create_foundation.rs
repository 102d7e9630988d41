use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_create_foundation"
    }
}

const UP: &str = r#"
CREATE TABLE streets (
    id {id},
    name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    phone TEXT,
    created_at {ts} NOT NULL
);
CREATE TABLE communities (
    id {id},
    street_id BIGINT NOT NULL REFERENCES streets(id),
    name TEXT NOT NULL CHECK (length(name) > 0),
    phone TEXT,
    address TEXT,
    created_at {ts} NOT NULL,
    UNIQUE (street_id, name)
);
CREATE TABLE organizations (
    id {id},
    name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    kind TEXT NOT NULL CHECK (kind IN ('PARTY_COMMITTEE', 'PARTY_WORKING_COMMITTEE', 'GENERAL_BRANCH', 'BRANCH', 'GROUP', 'ENTERPRISE', 'PUBLIC_INSTITUTION', 'SCHOOL', 'HOSPITAL', 'SOCIAL_ORGANIZATION', 'GOVERNMENT_DEPARTMENT')),
    parent_id BIGINT REFERENCES organizations(id),
    community_id BIGINT REFERENCES communities(id),
    created_at {ts} NOT NULL,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX organizations_parent ON organizations(parent_id);
CREATE INDEX organizations_community ON organizations(community_id);
CREATE TABLE grids (
    id {id},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    parent_id BIGINT REFERENCES grids(id),
    name TEXT NOT NULL CHECK (length(name) > 0),
    kind TEXT NOT NULL CHECK (kind IN ('COMPREHENSIVE', 'DEDICATED', 'MICRO')),
    households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),
    description TEXT,
    created_at {ts} NOT NULL,
    UNIQUE (community_id, name),
    CHECK ((kind = 'MICRO' AND parent_id IS NOT NULL) OR (kind <> 'MICRO' AND parent_id IS NULL))
);
CREATE INDEX grids_parent ON grids(parent_id);
CREATE TABLE users (
    id {id},
    username TEXT NOT NULL UNIQUE CHECK (length(username) >= 2),
    display_name TEXT NOT NULL CHECK (length(display_name) > 0),
    phone TEXT,
    avatar_url TEXT,
    password_hash TEXT NOT NULL,
    active {bool} NOT NULL DEFAULT {true},
    created_at {ts} NOT NULL
);
CREATE TABLE role_assignments (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('ADMIN', 'COMMUNITY_STAFF', 'GRID_WORKER', 'PARTY_MEMBER', 'UNIT_REP', 'STUDENT', 'RESIDENT')),
    community_id BIGINT REFERENCES communities(id),
    grid_id BIGINT REFERENCES grids(id),
    organization_id BIGINT REFERENCES organizations(id),
    created_at {ts} NOT NULL,
    CHECK (role <> 'COMMUNITY_STAFF' OR community_id IS NOT NULL),
    CHECK (role <> 'GRID_WORKER' OR grid_id IS NOT NULL),
    CHECK (role <> 'UNIT_REP' OR organization_id IS NOT NULL),
    CHECK (role <> 'ADMIN' OR (community_id IS NULL AND grid_id IS NULL AND organization_id IS NULL))
);
CREATE UNIQUE INDEX role_assignments_unique ON role_assignments(user_id, role, COALESCE(community_id, 0), COALESCE(grid_id, 0), COALESCE(organization_id, 0));
CREATE INDEX role_assignments_community ON role_assignments(community_id);
CREATE TABLE grid_staff (
    id {id},
    grid_id BIGINT NOT NULL REFERENCES grids(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('LEADER', 'WORKER', 'AUXILIARY')),
    start_date {date} NOT NULL,
    end_date {date},
    created_at {ts} NOT NULL,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE UNIQUE INDEX grid_staff_one_current_leader ON grid_staff(grid_id) WHERE role = 'LEADER' AND end_date IS NULL;
CREATE UNIQUE INDEX grid_staff_one_current_post ON grid_staff(grid_id, user_id) WHERE end_date IS NULL;
CREATE INDEX grid_staff_user ON grid_staff(user_id);
CREATE TABLE grid_registrations (
    id {id},
    member_id BIGINT NOT NULL REFERENCES users(id),
    community_id BIGINT NOT NULL REFERENCES communities(id),
    grid_id BIGINT REFERENCES grids(id),
    home_organization_id BIGINT REFERENCES organizations(id),
    home_organization_name TEXT NOT NULL CHECK (length(home_organization_name) > 0),
    service_kinds TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN')),
    review_reason TEXT,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at {ts},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CHECK (status <> 'APPROVED' OR grid_id IS NOT NULL),
    CHECK (status <> 'REJECTED' OR review_reason IS NOT NULL)
);
CREATE UNIQUE INDEX grid_registrations_one_open ON grid_registrations(member_id) WHERE status IN ('PENDING', 'APPROVED');
CREATE INDEX grid_registrations_community ON grid_registrations(community_id, status);
CREATE INDEX grid_registrations_grid ON grid_registrations(grid_id, status);
"#;

const DOWN: &str = r#"
DROP TABLE grid_registrations;
DROP TABLE grid_staff;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE grids;
DROP TABLE organizations;
DROP TABLE communities;
DROP TABLE streets;
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
