use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000006_wishes_no_self_claim"
    }
}

// A member cannot claim a wish they submitted or benefit from (DOMAIN.md). The claim flow
// sets `wishes.claimant_id` in the claim's transaction, so refusing it here refuses the claim.
// A comparison with a NULL beneficiary is unknown, which a CHECK lets pass.
const SQLITE_UP: &str = r#"
CREATE TRIGGER wishes_no_self_claim_insert BEFORE INSERT ON wishes WHEN NEW.claimant_id = NEW.submitted_by OR NEW.claimant_id = NEW.beneficiary_user_id BEGIN SELECT RAISE(ABORT, 'a member cannot claim a wish they submitted or benefit from'); END;
CREATE TRIGGER wishes_no_self_claim_update BEFORE UPDATE OF claimant_id, submitted_by, beneficiary_user_id ON wishes WHEN NEW.claimant_id = NEW.submitted_by OR NEW.claimant_id = NEW.beneficiary_user_id BEGIN SELECT RAISE(ABORT, 'a member cannot claim a wish they submitted or benefit from'); END;
"#;

const POSTGRES_UP: &str = r#"
ALTER TABLE wishes ADD CONSTRAINT wishes_no_self_claim CHECK (claimant_id <> submitted_by AND claimant_id <> beneficiary_user_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(
            manager,
            "DROP TRIGGER wishes_no_self_claim_insert;\nDROP TRIGGER wishes_no_self_claim_update;\n",
            "ALTER TABLE wishes DROP CONSTRAINT wishes_no_self_claim;\n",
        )
        .await
    }
}
