use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_create_alliances_and_agreements"
    }
}

const UP: &str = r#"
CREATE TABLE alliances (
    id {id},
    name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    lead_organization_id BIGINT NOT NULL REFERENCES organizations(id),
    scope TEXT NOT NULL CHECK (scope IN ('STREET', 'COMMUNITY')),
    street_id BIGINT REFERENCES streets(id),
    community_id BIGINT REFERENCES communities(id),
    description TEXT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL,
    CHECK ((scope = 'STREET' AND street_id IS NOT NULL AND community_id IS NULL) OR (scope = 'COMMUNITY' AND community_id IS NOT NULL))
);
CREATE TABLE alliance_members (
    id {id},
    alliance_id BIGINT NOT NULL REFERENCES alliances(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    joined_on {date} NOT NULL,
    left_on {date},
    created_at {ts} NOT NULL,
    UNIQUE (alliance_id, organization_id),
    CHECK (left_on IS NULL OR left_on >= joined_on)
);
CREATE INDEX alliance_members_org ON alliance_members(organization_id);
CREATE TABLE agreements (
    id {id},
    title TEXT NOT NULL CHECK (length(title) > 0),
    commitments TEXT NOT NULL,
    start_date {date} NOT NULL,
    end_date {date} NOT NULL,
    alliance_id BIGINT REFERENCES alliances(id),
    status TEXT NOT NULL CHECK (status IN ('DRAFT', 'PROPOSED', 'SIGNED', 'TERMINATED')),
    proposed_by BIGINT NOT NULL REFERENCES users(id),
    proposed_at {ts},
    signed_at {ts},
    terminated_by BIGINT REFERENCES users(id),
    terminated_at {ts},
    termination_reason TEXT,
    created_at {ts} NOT NULL,
    CHECK (end_date >= start_date),
    CHECK (status <> 'TERMINATED' OR termination_reason IS NOT NULL),
    CHECK (status <> 'SIGNED' OR signed_at IS NOT NULL)
);
CREATE INDEX agreements_alliance ON agreements(alliance_id);
CREATE TABLE agreement_kinds (
    id {id},
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    kind TEXT NOT NULL CHECK (kind IN ('JOINT_ACTIVITIES', 'MUTUAL_SERVICE', 'SHARED_VENUES', 'JOINT_EPIDEMIC_PREVENTION', 'OTHER')),
    UNIQUE (agreement_id, kind)
);
CREATE TABLE agreement_parties (
    id {id},
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    UNIQUE (agreement_id, organization_id)
);
CREATE INDEX agreement_parties_org ON agreement_parties(organization_id);
CREATE TABLE agreement_signatures (
    id {id},
    agreement_id BIGINT NOT NULL,
    organization_id BIGINT NOT NULL,
    signed_by BIGINT NOT NULL REFERENCES users(id),
    signed_at {ts} NOT NULL,
    UNIQUE (agreement_id, organization_id),
    FOREIGN KEY (agreement_id, organization_id) REFERENCES agreement_parties(agreement_id, organization_id)
);
CREATE TABLE agreement_activities (
    id {id},
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    held_on {date} NOT NULL,
    title TEXT NOT NULL CHECK (length(title) > 0),
    participants INTEGER NOT NULL CHECK (participants >= 0),
    notes TEXT,
    recorded_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL
);
CREATE INDEX agreement_activities_agreement ON agreement_activities(agreement_id, held_on);
"#;

const SQLITE_TRIGGERS: &str = r#"
CREATE TRIGGER agreements_text_frozen BEFORE UPDATE OF title, commitments, start_date, end_date, alliance_id ON agreements WHEN OLD.status <> 'DRAFT' BEGIN SELECT RAISE(ABORT, 'agreement text is frozen once proposed'); END;
"#;

const POSTGRES_TRIGGERS: &str = r#"
CREATE FUNCTION agreements_text_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.status <> 'DRAFT' AND (NEW.title IS DISTINCT FROM OLD.title OR NEW.commitments IS DISTINCT FROM OLD.commitments OR NEW.start_date IS DISTINCT FROM OLD.start_date OR NEW.end_date IS DISTINCT FROM OLD.end_date OR NEW.alliance_id IS DISTINCT FROM OLD.alliance_id) THEN RAISE EXCEPTION 'agreement text is frozen once proposed'; END IF; RETURN NEW; END $$;
CREATE TRIGGER agreements_text_frozen BEFORE UPDATE ON agreements FOR EACH ROW EXECUTE FUNCTION agreements_text_frozen();
"#;

const DOWN: &str = r#"
DROP TABLE agreement_activities;
DROP TABLE agreement_signatures;
DROP TABLE agreement_parties;
DROP TABLE agreement_kinds;
DROP TABLE agreements;
DROP TABLE alliance_members;
DROP TABLE alliances;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        crate::run_per_backend(manager, SQLITE_TRIGGERS, POSTGRES_TRIGGERS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await?;
        crate::run_per_backend(manager, "", "DROP FUNCTION agreements_text_frozen;\n").await
    }
}
