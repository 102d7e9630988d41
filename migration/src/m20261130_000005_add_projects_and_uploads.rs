use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000005_add_projects_and_uploads"
    }
}

/// 民生实事 and photos.
///
/// - An agreement activity may be an incident adopted as a project: it names the incident,
///   and an incident is adopted at most once.
/// - `uploads` holds uploaded images in the database (so that several instances and a backup
///   need nothing else): checked JPEG, PNG or WebP of at most 5 MB, metadata stripped, with a
///   thumbnail. Each belongs either to an incident's step (the report or the handling; at
///   most 6 per step) or to a wish's fulfilment (at most 9).
const UP: &str = r#"
ALTER TABLE agreement_activities ADD COLUMN incident_id BIGINT REFERENCES incidents(id);
CREATE UNIQUE INDEX agreement_activities_incident ON agreement_activities(incident_id) WHERE incident_id IS NOT NULL;
CREATE TABLE uploads (
    id {id},
    media_type TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    content {bytes} NOT NULL,
    size INTEGER NOT NULL CHECK (size > 0 AND size <= 5242880),
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    thumbnail {bytes} NOT NULL,
    incident_id BIGINT REFERENCES incidents(id),
    incident_step_id BIGINT REFERENCES incident_steps(id),
    wish_id BIGINT REFERENCES wishes(id),
    position INTEGER NOT NULL CHECK (position >= 0),
    uploaded_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL,
    CHECK ((incident_id IS NULL) <> (wish_id IS NULL)),
    CHECK ((incident_id IS NULL) = (incident_step_id IS NULL)),
    CHECK (incident_id IS NULL OR position < 6),
    CHECK (wish_id IS NULL OR position < 9)
);
CREATE UNIQUE INDEX uploads_incident_step ON uploads(incident_step_id, position) WHERE incident_step_id IS NOT NULL;
CREATE UNIQUE INDEX uploads_wish ON uploads(wish_id, position) WHERE wish_id IS NOT NULL;
CREATE INDEX uploads_incident ON uploads(incident_id) WHERE incident_id IS NOT NULL;
"#;

const DOWN: &str = r#"
DROP TABLE uploads;
DROP INDEX agreement_activities_incident;
ALTER TABLE agreement_activities DROP COLUMN incident_id;
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
