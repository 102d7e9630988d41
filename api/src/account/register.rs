//! Spreadsheets for staff: the import template (`GET /templates/people.xlsx`) and a
//! community's register of people (`GET /communities/{id}/register.xlsx`).

use std::collections::HashMap;

use entity::{grid, passbook, role_assignment, user};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::account::import::COLUMNS;
use crate::account::policy;
use crate::account::privacy::{self, Field, View};
use crate::auth::AuthUser;
use crate::core::error::{AppError, AppResult};

fn xlsx(e: XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

/// The import template: the columns `importPeople` reads, an example row, and a sheet that
/// explains each column.
pub fn template() -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("人员名册").map_err(xlsx)?;
    let example = ["zhangsan", "张三", "13800001111", "居民", "", "是"];
    for (i, c) in COLUMNS.iter().enumerate() {
        let col = i as u16;
        sheet
            .write_string_with_format(0, col, c.headers[0], &bold)
            .map_err(xlsx)?;
        sheet.write_string(1, col, example[i]).map_err(xlsx)?;
        sheet.set_column_width(col, 16).map_err(xlsx)?;
    }
    let help = book.add_worksheet();
    help.set_name("填写说明").map_err(xlsx)?;
    for (col, title) in ["列名", "必填", "说明", "也可写作"].iter().enumerate() {
        help.write_string_with_format(0, col as u16, *title, &bold)
            .map_err(xlsx)?;
    }
    for (i, c) in COLUMNS.iter().enumerate() {
        let row = i as u32 + 1;
        help.write_string(row, 0, c.headers[0]).map_err(xlsx)?;
        help.write_string(row, 1, if c.required { "是" } else { "否" })
            .map_err(xlsx)?;
        help.write_string(row, 2, c.help).map_err(xlsx)?;
        help.write_string(row, 3, c.headers[1..].join(" / "))
            .map_err(xlsx)?;
    }
    help.set_column_width(2, 60).map_err(xlsx)?;
    book.save_to_buffer().map_err(xlsx)
}

/// The register of a community (ADMIN; staff of the community): every person of the
/// community (a role there or in one of its grids, or an approved registration) with their
/// phone, roles there, grid and passbook. Each phone shown is written to the access log.
pub async fn register(
    db: &DatabaseConnection,
    actor: &AuthUser,
    community_id: i64,
) -> AppResult<Vec<u8>> {
    if !actor.is_staff_of(community_id) {
        return Err(AppError::forbidden());
    }
    crate::core::db::get::<entity::community::Entity, _>(db, community_id, "社区不存在").await?;
    let people = user::Entity::find()
        .filter(policy::people_of_communities(vec![community_id]))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = people.iter().map(|u| u.id).collect();
    let grids: HashMap<i64, String> = grid::Entity::find()
        .filter(grid::Column::CommunityId.eq(community_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    let mut books: HashMap<i64, passbook::Model> = HashMap::new();
    for chunk in ids.chunks(1_000) {
        for r in role_assignment::Entity::find()
            .filter(role_assignment::Column::UserId.is_in(chunk.to_vec()))
            .order_by_asc(role_assignment::Column::Id)
            .all(db)
            .await?
        {
            let here = r.community_id == Some(community_id)
                || r.grid_id.is_some_and(|g| grids.contains_key(&g));
            if here {
                let label = match r.grid_id.and_then(|g| grids.get(&g)) {
                    Some(g) => format!("{}（{g}）", role_label(r.role)),
                    None => role_label(r.role).to_owned(),
                };
                roles.entry(r.user_id).or_default().push(label);
            }
        }
        for b in passbook::Entity::find()
            .filter(passbook::Column::HolderId.is_in(chunk.to_vec()))
            .filter(passbook::Column::CommunityId.eq(community_id))
            .all(db)
            .await?
        {
            books.insert(b.holder_id, b);
        }
    }

    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("登记册").map_err(xlsx)?;
    let headers = [
        "用户名",
        "姓名",
        "手机号",
        "身份",
        "网格",
        "存折号",
        "积分",
        "账号状态",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *h, &bold)
            .map_err(xlsx)?;
        sheet.set_column_width(col as u16, 16).map_err(xlsx)?;
    }
    let mut views = Vec::new();
    for (i, u) in people.iter().enumerate() {
        let row = i as u32 + 1;
        let b = books.get(&u.id);
        sheet.write_string(row, 0, &u.username).map_err(xlsx)?;
        sheet.write_string(row, 1, &u.display_name).map_err(xlsx)?;
        if let Some(phone) = &u.phone {
            sheet.write_string(row, 2, phone).map_err(xlsx)?;
            views.extend(View::of(
                Some(actor),
                Some(u.id),
                Field::Phone,
                "register.xlsx",
                Some(("Community", community_id)),
            ));
        }
        sheet
            .write_string(
                row,
                3,
                roles.get(&u.id).map(|r| r.join("、")).unwrap_or_default(),
            )
            .map_err(xlsx)?;
        if let Some(g) = b.and_then(|b| b.grid_id).and_then(|g| grids.get(&g)) {
            sheet.write_string(row, 4, g).map_err(xlsx)?;
        }
        if let Some(b) = b {
            sheet.write_string(row, 5, &b.number).map_err(xlsx)?;
            sheet.write_number(row, 6, b.balance as f64).map_err(xlsx)?;
        }
        sheet
            .write_string(row, 7, if u.active { "启用" } else { "停用" })
            .map_err(xlsx)?;
    }
    for chunk in views.chunks(1_000) {
        privacy::write(db, chunk.to_vec(), None).await?;
    }
    book.save_to_buffer().map_err(xlsx)
}

fn role_label(role: entity::role_assignment::Role) -> &'static str {
    use entity::role_assignment::Role;
    match role {
        Role::Admin => "管理员",
        Role::CommunityStaff => "社区工作者",
        Role::GridWorker => "网格员",
        Role::PartyMember => "党员",
        Role::UnitRep => "单位联络人",
        Role::Student => "大学生志愿者",
        Role::Resident => "居民",
    }
}
