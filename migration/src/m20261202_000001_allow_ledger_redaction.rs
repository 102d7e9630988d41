use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_allow_ledger_redaction"
    }
}

/// Ledger entries stay immutable, with one documented path: the erasure of a person's
/// personal data may redact a memo (the new memo carries the marker `[已删除]`), changing
/// nothing else of the entry. Any other update, and every delete, is still refused.
const SQLITE_UP: &str = r#"
CREATE TRIGGER ledger_entries_fields_fixed BEFORE UPDATE OF id, passbook_id, amount, kind, source, source_id, operator_id, balance_after, reverses_entry_id, created_at ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_entries_memo_redacted_only BEFORE UPDATE OF memo ON ledger_entries WHEN instr(NEW.memo, '[已删除]') = 0 BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
DROP TRIGGER ledger_entries_no_update;
"#;

const SQLITE_DOWN: &str = r#"
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
DROP TRIGGER ledger_entries_memo_redacted_only;
DROP TRIGGER ledger_entries_fields_fixed;
"#;

const POSTGRES_UP: &str = r#"
CREATE OR REPLACE FUNCTION ledger_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE redacted text; BEGIN IF TG_OP = 'UPDATE' AND position('[已删除]' in NEW.memo) > 0 THEN redacted := NEW.memo; NEW.memo := OLD.memo; IF NEW IS NOT DISTINCT FROM OLD THEN NEW.memo := redacted; RETURN NEW; END IF; END IF; RAISE EXCEPTION 'ledger entries are immutable'; END $$
"#;

const POSTGRES_DOWN: &str = r#"
CREATE OR REPLACE FUNCTION ledger_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger entries are immutable'; END $$
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
