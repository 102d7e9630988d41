use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000004_create_patrols"
    }
}

/// Patrols (网格巡查): a grid worker's round of their grid on a date — households visited, the
/// checklist items done (from the street's catalogue per grid kind), notes. One patrol per
/// worker, grid and date; logging it again amends it, and every version is kept.
/// The catalogue starts with 仙林's "十必到六必访" (comprehensive grids) and "十看六问"
/// (dedicated grids); a micro-grid uses the comprehensive list.
const UP: &str = r#"
CREATE TABLE patrol_checklist_items (
    id {id},
    grid_kind TEXT NOT NULL CHECK (grid_kind IN ('COMPREHENSIVE', 'DEDICATED')),
    code TEXT NOT NULL CHECK (length(code) > 0),
    label TEXT NOT NULL CHECK (length(label) > 0),
    position INTEGER NOT NULL,
    UNIQUE (grid_kind, code)
);
INSERT INTO patrol_checklist_items (grid_kind, code, label, position) VALUES
 ('COMPREHENSIVE', 'ELDERLY_ALONE', '独居老人家必到', 1),
 ('COMPREHENSIVE', 'DISABLED', '残疾人家必到', 2),
 ('COMPREHENSIVE', 'LOW_INCOME', '低保户家必到', 3),
 ('COMPREHENSIVE', 'NEW_RESIDENTS', '新迁入住户必到', 4),
 ('COMPREHENSIVE', 'RENTALS', '出租房屋必到', 5),
 ('COMPREHENSIVE', 'SHOPS', '沿街商铺必到', 6),
 ('COMPREHENSIVE', 'CONSTRUCTION', '在建工地必到', 7),
 ('COMPREHENSIVE', 'FIRE_EXITS', '消防通道必到', 8),
 ('COMPREHENSIVE', 'PUBLIC_FACILITIES', '公共设施必到', 9),
 ('COMPREHENSIVE', 'DISPUTES', '矛盾纠纷户必到', 10),
 ('COMPREHENSIVE', 'VISIT_PARTY_MEMBERS', '走访党员', 11),
 ('COMPREHENSIVE', 'VISIT_VETERANS', '走访退役军人', 12),
 ('COMPREHENSIVE', 'VISIT_SPECIAL_NEEDS', '走访特殊群体', 13),
 ('COMPREHENSIVE', 'VISIT_YOUTH', '走访青少年家庭', 14),
 ('COMPREHENSIVE', 'VISIT_FLOATING', '走访流动人口', 15),
 ('COMPREHENSIVE', 'VISIT_MERCHANTS', '走访商户', 16),
 ('DEDICATED', 'LOOK_GATES', '看门岗', 1),
 ('DEDICATED', 'LOOK_FIRE', '看消防', 2),
 ('DEDICATED', 'LOOK_POWER', '看用电', 3),
 ('DEDICATED', 'LOOK_GAS', '看燃气', 4),
 ('DEDICATED', 'LOOK_STORAGE', '看仓储', 5),
 ('DEDICATED', 'LOOK_DORMS', '看宿舍', 6),
 ('DEDICATED', 'LOOK_KITCHEN', '看食堂', 7),
 ('DEDICATED', 'LOOK_WASTE', '看垃圾分类', 8),
 ('DEDICATED', 'LOOK_PARKING', '看停车', 9),
 ('DEDICATED', 'LOOK_NOTICES', '看公示', 10),
 ('DEDICATED', 'ASK_SAFETY', '问安全', 11),
 ('DEDICATED', 'ASK_NEEDS', '问需求', 12),
 ('DEDICATED', 'ASK_DIFFICULTIES', '问困难', 13),
 ('DEDICATED', 'ASK_DISPUTES', '问矛盾', 14),
 ('DEDICATED', 'ASK_SERVICES', '问服务', 15),
 ('DEDICATED', 'ASK_SUGGESTIONS', '问建议', 16);
CREATE TABLE patrols (
    id {id},
    grid_id BIGINT NOT NULL REFERENCES grids(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    date {date} NOT NULL,
    households_visited INTEGER NOT NULL CHECK (households_visited >= 0 AND households_visited <= 10000),
    checklist TEXT NOT NULL,
    notes TEXT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (worker_id, grid_id, date)
);
CREATE INDEX patrols_grid_date ON patrols(grid_id, date);
CREATE TABLE patrol_revisions (
    id {id},
    patrol_id BIGINT NOT NULL REFERENCES patrols(id),
    revision INTEGER NOT NULL CHECK (revision >= 1),
    households_visited INTEGER NOT NULL CHECK (households_visited >= 0),
    checklist TEXT NOT NULL,
    notes TEXT,
    recorded_at {ts} NOT NULL,
    UNIQUE (patrol_id, revision)
);
"#;

const DOWN: &str = r#"
DROP TABLE patrol_revisions;
DROP TABLE patrols;
DROP TABLE patrol_checklist_items;
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
