use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_create_wishes_and_bank"
    }
}

const UP: &str = r#"
CREATE TABLE wishes (
    id {id},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    grid_id BIGINT NOT NULL REFERENCES grids(id),
    title TEXT NOT NULL CHECK (length(title) > 0),
    description TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('GOODS', 'SERVICE', 'COMPANIONSHIP', 'OTHER')),
    submitted_by BIGINT NOT NULL REFERENCES users(id),
    beneficiary_user_id BIGINT REFERENCES users(id),
    beneficiary_name TEXT NOT NULL CHECK (length(beneficiary_name) > 0),
    beneficiary_phone TEXT,
    beneficiary_address TEXT,
    estimated_value INTEGER NOT NULL CHECK (estimated_value >= 0),
    deadline {date},
    status TEXT NOT NULL CHECK (status IN ('PENDING_REVIEW', 'PUBLISHED', 'CLAIMED', 'FULFILLED', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
    claimant_id BIGINT REFERENCES users(id),
    review_reason TEXT,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at {ts},
    fulfil_note TEXT,
    fulfil_photos TEXT,
    fulfilled_at {ts},
    rating INTEGER CHECK (rating IS NULL OR (rating >= 1 AND rating <= 5)),
    feedback TEXT,
    confirmed_by BIGINT REFERENCES users(id),
    confirmed_at {ts},
    cancel_reason TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CHECK ((status IN ('CLAIMED', 'FULFILLED', 'CONFIRMED')) = (claimant_id IS NOT NULL)),
    CHECK (status <> 'CONFIRMED' OR rating IS NOT NULL),
    CHECK (status <> 'REJECTED' OR review_reason IS NOT NULL)
);
CREATE INDEX wishes_community ON wishes(community_id, status);
CREATE INDEX wishes_grid ON wishes(grid_id, status);
CREATE INDEX wishes_claimant ON wishes(claimant_id);
CREATE INDEX wishes_submitted_by ON wishes(submitted_by);
CREATE TABLE wish_claims (
    id {id},
    wish_id BIGINT NOT NULL REFERENCES wishes(id),
    member_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'RELEASED', 'COMPLETED', 'CANCELLED')),
    claimed_at {ts} NOT NULL,
    ended_at {ts},
    release_reason TEXT,
    CHECK (status = 'ACTIVE' OR ended_at IS NOT NULL)
);
CREATE UNIQUE INDEX wish_claims_one_active ON wish_claims(wish_id) WHERE status = 'ACTIVE';
CREATE INDEX wish_claims_member ON wish_claims(member_id, status);
CREATE TABLE passbooks (
    id {id},
    holder_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    community_id BIGINT NOT NULL REFERENCES communities(id),
    grid_id BIGINT REFERENCES grids(id),
    number TEXT NOT NULL UNIQUE,
    opened_on {date} NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'FROZEN')),
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at {ts} NOT NULL
);
CREATE INDEX passbooks_community ON passbooks(community_id);
CREATE TABLE ledger_entries (
    id {id},
    passbook_id BIGINT NOT NULL REFERENCES passbooks(id),
    amount BIGINT NOT NULL CHECK (amount <> 0),
    kind TEXT NOT NULL CHECK (kind IN ('EARN', 'REDEEM', 'REVERSAL', 'ADJUSTMENT')),
    source TEXT NOT NULL CHECK (source IN ('WISH', 'SHIFT', 'GOOD_DEED', 'REDEMPTION', 'MANUAL')),
    source_id BIGINT,
    memo TEXT NOT NULL,
    operator_id BIGINT REFERENCES users(id),
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    reverses_entry_id BIGINT UNIQUE REFERENCES ledger_entries(id),
    created_at {ts} NOT NULL,
    CHECK (kind <> 'EARN' OR amount > 0),
    CHECK (kind <> 'REDEEM' OR amount < 0),
    CHECK ((kind = 'REVERSAL') = (reverses_entry_id IS NOT NULL))
);
CREATE UNIQUE INDEX ledger_entries_earn_once ON ledger_entries(source, source_id) WHERE kind = 'EARN' AND source_id IS NOT NULL;
CREATE INDEX ledger_entries_passbook ON ledger_entries(passbook_id, id);
CREATE INDEX ledger_entries_created ON ledger_entries(created_at);
CREATE TABLE good_deed_categories (
    id {id},
    name TEXT NOT NULL UNIQUE,
    points INTEGER NOT NULL CHECK (points > 0),
    active {bool} NOT NULL DEFAULT {true}
);
INSERT INTO good_deed_categories (name, points) VALUES ('志愿服务', 10), ('邻里互助', 5), ('调解纠纷', 8), ('见义勇为', 20), ('环境卫生', 3), ('其他', 2);
CREATE TABLE good_deeds (
    id {id},
    passbook_id BIGINT NOT NULL REFERENCES passbooks(id),
    category_id BIGINT NOT NULL REFERENCES good_deed_categories(id),
    description TEXT NOT NULL CHECK (length(description) > 0),
    occurred_on {date} NOT NULL,
    reported_by BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    points INTEGER,
    review_reason TEXT,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at {ts},
    created_at {ts} NOT NULL,
    CHECK (status <> 'APPROVED' OR points > 0),
    CHECK (status <> 'REJECTED' OR review_reason IS NOT NULL)
);
CREATE INDEX good_deeds_passbook ON good_deeds(passbook_id, status);
CREATE TABLE rewards (
    id {id},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    name TEXT NOT NULL CHECK (length(name) > 0),
    description TEXT,
    cost INTEGER NOT NULL CHECK (cost > 0),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    active {bool} NOT NULL DEFAULT {true},
    created_at {ts} NOT NULL,
    UNIQUE (community_id, name)
);
CREATE TABLE redemptions (
    id {id},
    reward_id BIGINT NOT NULL REFERENCES rewards(id),
    passbook_id BIGINT NOT NULL REFERENCES passbooks(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    points BIGINT NOT NULL CHECK (points > 0),
    ledger_entry_id BIGINT NOT NULL UNIQUE REFERENCES ledger_entries(id),
    reversed {bool} NOT NULL DEFAULT {false},
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at {ts} NOT NULL
);
CREATE INDEX redemptions_passbook ON redemptions(passbook_id);
CREATE TABLE idempotency_keys (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL CHECK (length(key) > 0),
    request TEXT NOT NULL,
    result_id BIGINT,
    created_at {ts} NOT NULL,
    UNIQUE (user_id, key)
);
"#;

const SQLITE_TRIGGERS: &str = r#"
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
"#;

const POSTGRES_TRIGGERS: &str = r#"
CREATE FUNCTION ledger_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger entries are immutable'; END $$;
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_immutable();
"#;

const DOWN: &str = r#"
DROP TABLE idempotency_keys;
DROP TABLE redemptions;
DROP TABLE rewards;
DROP TABLE good_deeds;
DROP TABLE good_deed_categories;
DROP TABLE ledger_entries;
DROP TABLE passbooks;
DROP TABLE wish_claims;
DROP TABLE wishes;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        crate::run_per_backend(manager, SQLITE_TRIGGERS, POSTGRES_TRIGGERS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await?;
        crate::run_per_backend(manager, "", "DROP FUNCTION ledger_entries_immutable;\n").await
    }
}
