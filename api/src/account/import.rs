//! The community's spreadsheet: `importPeople` reads residents and party members from an
//! `.xlsx` or a UTF-8 `.csv` (columns in the README and in `GET /templates/people.xlsx`).
//! The whole file is checked first; any bad row refuses the whole import with every bad
//! row and its reason. A good file creates every user, role (with its history) and passbook
//! in one transaction, in batches of statements, not one per row.

use std::collections::{HashMap, HashSet};

use entity::{
    grid, passbook, passbook::PassbookStatus, role_assignment, role_assignment::Role, role_grant,
    user,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::auth::{self, AuthUser};
use crate::core::db;
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;

/// Rows one file may hold.
pub const MAX_ROWS: usize = 20_000;
/// Rows per insert statement (within both databases' limits on bound values).
const BATCH: usize = 1_000;

/// One column of the spreadsheet: its key, and the headers that name it (Chinese first).
pub struct Column {
    pub key: &'static str,
    pub headers: &'static [&'static str],
    pub required: bool,
    pub help: &'static str,
}

/// The columns of `importPeople`, in the template's order.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "username",
        headers: &["用户名", "username"],
        required: true,
        help: "登录名：2–32 位字母、数字或 _ - .，在文件和系统中唯一",
    },
    Column {
        key: "name",
        headers: &["姓名", "name", "displayName"],
        required: true,
        help: "姓名，最多 50 字",
    },
    Column {
        key: "phone",
        headers: &["手机号", "phone"],
        required: false,
        help: "11 位手机号或带区号的固定电话，可空",
    },
    Column {
        key: "role",
        headers: &["身份", "role"],
        required: true,
        help: "居民（RESIDENT）或 党员（PARTY_MEMBER）",
    },
    Column {
        key: "grid",
        headers: &["网格", "grid"],
        required: false,
        help: "本社区的网格名称（含微网格），可空",
    },
    Column {
        key: "passbook",
        headers: &["开通存折", "passbook"],
        required: false,
        help: "是 / 否，空为“是”：开通道德银行存折",
    },
];

/// What is wrong with one row (or with the file, row 0 / 1 for the header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The spreadsheet's row number (the header is row 1).
    pub row: usize,
    /// The column's header as the file wrote it (none for the whole row or file).
    pub column: Option<String>,
    pub reason: String,
}

/// A checked row, ready to insert.
#[derive(Clone, Debug)]
struct Person {
    username: String,
    display_name: String,
    phone: Option<String>,
    role: Role,
    grid_id: Option<i64>,
    passbook: bool,
}

/// What an import did: everything created, or nothing and why.
pub struct Outcome {
    pub created: usize,
    pub passbooks: usize,
    pub problems: Vec<Problem>,
}

/// Columns one file may hold (the template has six).
pub const MAX_COLUMNS: usize = 64;
/// Entries of the `.xlsx` archive at most (a workbook of one sheet has about a dozen).
const MAX_ZIP_ENTRIES: usize = 256;
/// Bytes one entry of the archive may inflate to (a sheet of 20,000 rows of the template's
/// columns is about 5 MB), and all of them together.
const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;
const MAX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;

/// The cells of a file, row by row (the first row the header), from `.xlsx` (by content:
/// a zip archive) or UTF-8 `.csv`. Budgets are checked before the work they bound: the
/// archive's entries are inflated (to nowhere) only up to [`MAX_ENTRY_BYTES`] each, then the
/// sheet is read cell by cell (never as a range, whose declared dimension may be a whole
/// sheet), each cell's position checked against [`MAX_ROWS`] and [`MAX_COLUMNS`]. CPU work:
/// run it on the blocking pool.
fn cells(bytes: &[u8]) -> Result<Vec<Vec<String>>, Unread> {
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx_cells(bytes);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "CSV 文件须为 UTF-8 编码（Excel：另存为“CSV UTF-8”）".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("CSV 格式有误：第 {} 行", line_of(&e)))?;
        // The same budgets as a sheet's, checked before a row is kept.
        if rows.len() > MAX_ROWS {
            return Err(Unread::OverBudget(format!(
                "第 {} 行超出上限：一个文件最多 {MAX_ROWS} 行（不含表头）",
                rows.len() + 1
            )));
        }
        if record.len() > MAX_COLUMNS {
            return Err(Unread::OverBudget(format!(
                "第 {} 行超出上限：最多 {MAX_COLUMNS} 列",
                rows.len() + 1
            )));
        }
        rows.push(record.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok(rows)
}

/// Why a file's cells could not be read: it is not a readable file (reported as the file's
/// problem, row 0), or it is over a budget (refused as `BAD_USER_INPUT` on `file`).
enum Unread {
    Unreadable(String),
    OverBudget(String),
}

impl From<String> for Unread {
    fn from(reason: String) -> Self {
        Unread::Unreadable(reason)
    }
}

/// Checks what each entry of an `.xlsx` archive really inflates to (a declared size may
/// lie), reading at most one byte past its budget.
fn check_archive(bytes: &[u8]) -> Result<(), Unread> {
    let unreadable = || "无法读取该 Excel 文件（请使用 .xlsx 格式）".to_owned();
    let too_big = || {
        Unread::OverBudget(format!(
            "Excel 文件解压后过大（每个部分不超过 {} MB，合计不超过 {} MB）",
            MAX_ENTRY_BYTES >> 20,
            MAX_INFLATED_BYTES >> 20
        ))
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(too_big());
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| unreadable())?;
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(too_big());
        }
        let read = std::io::copy(
            &mut std::io::Read::take(&mut entry, MAX_ENTRY_BYTES + 1),
            &mut std::io::sink(),
        )
        .map_err(|_| unreadable())?;
        total += read;
        if read > MAX_ENTRY_BYTES || total > MAX_INFLATED_BYTES {
            return Err(too_big());
        }
    }
    Ok(())
}

/// The first sheet's cells, read one by one within the row, column and cell budgets.
fn xlsx_cells(bytes: &[u8]) -> Result<Vec<Vec<String>>, Unread> {
    use calamine::{Reader, Xlsx};
    check_archive(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|_| "无法读取该 Excel 文件（请使用 .xlsx 格式）".to_owned())?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| "Excel 文件中没有工作表".to_owned())?;
    let unreadable = || "无法读取 Excel 的第一个工作表".to_owned();
    let mut reader = book
        .worksheet_cells_reader(&name)
        .map_err(|_| unreadable())?;
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(|_| unreadable())? {
        let (row, col) = cell.get_position();
        let (row, col) = (row as usize, col as usize);
        if row > MAX_ROWS {
            return Err(Unread::OverBudget(format!(
                "第 {} 行超出上限：一个文件最多 {MAX_ROWS} 行（不含表头）",
                row + 1
            )));
        }
        if col >= MAX_COLUMNS {
            return Err(Unread::OverBudget(format!(
                "第 {} 行第 {} 列超出上限：最多 {MAX_COLUMNS} 列",
                row + 1,
                col + 1
            )));
        }
        let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
        if !text.is_empty() {
            found.push((row, col, text));
        }
    }
    // Rows and columns from the first used ones, as a range would have them.
    let (Some(top), Some(left)) = (
        found.iter().map(|c| c.0).min(),
        found.iter().map(|c| c.1).min(),
    ) else {
        return Ok(Vec::new());
    };
    let bottom = found.iter().map(|c| c.0).max().unwrap_or(top);
    let right = found.iter().map(|c| c.1).max().unwrap_or(left);
    let mut rows = vec![vec![String::new(); right - left + 1]; bottom - top + 1];
    for (row, col, text) in found {
        rows[row - top][col - left] = text;
    }
    Ok(rows)
}

fn line_of(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        // A phone typed as a number comes as a float: 13812345678.0.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        other => other.to_string().trim().to_owned(),
    }
}

fn role_of(value: &str) -> Option<Role> {
    match value.trim().to_uppercase().as_str() {
        "居民" | "RESIDENT" => Some(Role::Resident),
        "党员" | "PARTY_MEMBER" => Some(Role::PartyMember),
        _ => None,
    }
}

fn yes_no(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "" | "是" | "yes" | "y" | "true" | "1" => Some(true),
        "否" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Imports the people of one community (ADMIN; staff of the community). `initial_password`,
/// if given, is every new account's password until its first login, where it must be
/// changed; without it, accounts log in after a `resetPassword`.
pub async fn import_people(
    db: &DatabaseConnection,
    actor: &AuthUser,
    community_id: i64,
    bytes: &[u8],
    initial_password: Option<&str>,
) -> AppResult<Outcome> {
    if !actor.is_staff_of(community_id) {
        return Err(AppError::forbidden());
    }
    db::get::<entity::community::Entity, _>(db, community_id, "社区不存在").await?;
    let password = match initial_password.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(
            crate::account::lifecycle::strong_password("", p)
                .map_err(|e| AppError::bad_field("initialPassword", e.message()))?,
        ),
        None => None,
    };
    let refuse = |problems: Vec<Problem>| Outcome {
        created: 0,
        passbooks: 0,
        problems,
    };
    let owned = bytes.to_vec();
    let parsed = tokio::task::spawn_blocking(move || cells(&owned))
        .await
        .map_err(AppError::internal)?;
    let rows = match parsed {
        Ok(rows) => rows,
        Err(Unread::OverBudget(reason)) => return Err(AppError::bad_field("file", reason)),
        Err(Unread::Unreadable(reason)) => {
            return Ok(refuse(vec![Problem {
                row: 0,
                column: None,
                reason,
            }]));
        }
    };
    let (people, problems) = check(db, community_id, &rows).await?;
    if !problems.is_empty() {
        return Ok(refuse(problems));
    }
    let hash = match password {
        Some(p) => auth::hash_password(p).await?,
        None => "!unset".to_owned(),
    };
    let txn = db::begin_write(db).await?;
    let (created, passbooks) = insert(&txn, actor, community_id, &people, &hash).await?;
    txn.commit().await?;
    Ok(Outcome {
        created,
        passbooks,
        problems: Vec::new(),
    })
}

/// Checks every row; the people of a good file, or every problem of a bad one.
async fn check(
    db: &DatabaseConnection,
    community_id: i64,
    rows: &[Vec<String>],
) -> AppResult<(Vec<Person>, Vec<Problem>)> {
    let mut problems = Vec::new();
    let Some(header) = rows.first() else {
        problems.push(Problem {
            row: 0,
            column: None,
            reason: "文件是空的".into(),
        });
        return Ok((Vec::new(), problems));
    };
    // Which column holds which key.
    let mut at: HashMap<&'static str, (usize, String)> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if let Some(c) = COLUMNS
            .iter()
            .find(|c| c.headers.iter().any(|name| name.eq_ignore_ascii_case(h)))
        {
            at.entry(c.key).or_insert((i, h.to_owned()));
        }
    }
    for c in COLUMNS.iter().filter(|c| c.required) {
        if !at.contains_key(c.key) {
            problems.push(Problem {
                row: 1,
                column: Some(c.headers[0].to_owned()),
                reason: format!("缺少必填列“{}”", c.headers[0]),
            });
        }
    }
    if !problems.is_empty() {
        return Ok((Vec::new(), problems));
    }
    let body: Vec<(usize, &Vec<String>)> = rows
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, r)| (i + 1, r))
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .collect();
    if body.is_empty() {
        problems.push(Problem {
            row: 2,
            column: None,
            reason: "文件中没有人员".into(),
        });
        return Ok((Vec::new(), problems));
    }
    if body.len() > MAX_ROWS {
        problems.push(Problem {
            row: 0,
            column: None,
            reason: format!("一次最多导入 {MAX_ROWS} 人"),
        });
        return Ok((Vec::new(), problems));
    }
    // The community's grids (and micro-grids) by name.
    let grids: HashMap<String, i64> = grid::Entity::find()
        .filter(grid::Column::CommunityId.eq(community_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.name, g.id))
        .collect();
    let cell = |row: &Vec<String>, key: &str| -> (String, String) {
        match at.get(key) {
            Some((i, header)) => (
                row.get(*i).map(|c| c.trim().to_owned()).unwrap_or_default(),
                header.clone(),
            ),
            None => (String::new(), key.to_owned()),
        }
    };
    let mut people = Vec::with_capacity(body.len());
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    let mut first_row_of_phone: HashMap<String, usize> = HashMap::new();
    for (line, row) in &body {
        let mut bad = |column: String, reason: String| {
            problems.push(Problem {
                row: *line,
                column: Some(column),
                reason,
            })
        };
        let (username, h) = cell(row, "username");
        let username = match validate::username(&username) {
            Ok(u) => {
                let key = u.to_lowercase();
                if let Some(first) = first_row_of.get(&key) {
                    bad(h, format!("用户名“{u}”与第 {first} 行重复"));
                    None
                } else {
                    first_row_of.insert(key, *line);
                    Some(u)
                }
            }
            Err(e) => {
                bad(h, e.message());
                None
            }
        };
        let (name, h) = cell(row, "name");
        let name = validate::text("name", &name, 50)
            .map_err(|_| bad(h, "姓名不能为空且不超过 50 字".into()))
            .ok();
        let (phone, h) = cell(row, "phone");
        let phone = match validate::opt_phone(Some(&phone)) {
            Ok(Some(p)) => match first_row_of_phone.get(&p) {
                Some(first) => {
                    bad(h, format!("手机号 {p} 与第 {first} 行重复"));
                    None
                }
                None => {
                    first_row_of_phone.insert(p.clone(), *line);
                    Some(Some(p))
                }
            },
            Ok(None) => Some(None),
            Err(e) => {
                bad(h, e.message());
                None
            }
        };
        let (role, h) = cell(row, "role");
        let role = role_of(&role);
        if role.is_none() {
            bad(h, "身份须为“居民”或“党员”".into());
        }
        let (grid_name, h) = cell(row, "grid");
        let grid_id = if grid_name.is_empty() {
            Some(None)
        } else if let Some(g) = grids.get(&grid_name) {
            Some(Some(*g))
        } else {
            bad(h, format!("本社区没有名为“{grid_name}”的网格"));
            None
        };
        let (book, h) = cell(row, "passbook");
        let book = yes_no(&book);
        if book.is_none() {
            bad(h, "开通存折须为“是”或“否”".into());
        }
        if let (
            Some(username),
            Some(display_name),
            Some(phone),
            Some(role),
            Some(grid_id),
            Some(passbook),
        ) = (username, name, phone, role, grid_id, book)
        {
            people.push(Person {
                username,
                display_name,
                phone,
                role,
                grid_id,
                passbook,
            });
        }
    }
    // Usernames already taken, in any letter case, in batches.
    let names: Vec<String> = first_row_of.keys().cloned().collect();
    let mut taken = HashSet::new();
    for chunk in names.chunks(BATCH) {
        let found: Vec<String> = user::Entity::find()
            .select_only()
            .column(user::Column::Username)
            .filter(
                Expr::expr(Func::lower(Expr::col(user::Column::Username)))
                    .is_in(chunk.iter().cloned()),
            )
            .into_tuple()
            .all(db)
            .await?;
        taken.extend(found.into_iter().map(|u| u.to_lowercase()));
    }
    // Phones already held by someone, in batches.
    let phones: Vec<String> = first_row_of_phone.keys().cloned().collect();
    let mut held = HashSet::new();
    for chunk in phones.chunks(BATCH) {
        let found: Vec<Option<String>> = user::Entity::find()
            .select_only()
            .column(user::Column::Phone)
            .filter(user::Column::Phone.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        held.extend(found.into_iter().flatten());
    }
    if !held.is_empty() {
        let header = at.get("phone").map(|(_, h)| h.clone());
        let mut clashes: Vec<(usize, String)> = first_row_of_phone
            .iter()
            .filter(|(p, _)| held.contains(*p))
            .map(|(p, line)| (*line, p.clone()))
            .collect();
        clashes.sort();
        for (line, phone) in clashes {
            problems.push(Problem {
                row: line,
                column: header.clone(),
                reason: format!("手机号 {phone} 已被其他账号使用"),
            });
        }
    }
    if !taken.is_empty() {
        let header = at.get("username").map(|(_, h)| h.clone());
        let mut clashes: Vec<(usize, String)> = first_row_of
            .iter()
            .filter(|(k, _)| taken.contains(*k))
            .map(|(k, line)| (*line, k.clone()))
            .collect();
        clashes.sort();
        for (line, name) in clashes {
            problems.push(Problem {
                row: line,
                column: header.clone(),
                reason: format!("用户名“{name}”已被使用"),
            });
        }
    }
    problems.sort_by_key(|p| p.row);
    Ok((people, problems))
}

/// Inserts the people, their roles (granted by the actor, from today, with history) and
/// passbooks, in batches.
async fn insert(
    txn: &DatabaseTransaction,
    actor: &AuthUser,
    community_id: i64,
    people: &[Person],
    hash: &str,
) -> AppResult<(usize, usize)> {
    let now = crate::core::clock::now();
    let today = validate::today();
    let mut created = 0;
    let mut books = 0;
    for chunk in people.chunks(BATCH) {
        let users = user::Entity::insert_many(chunk.iter().map(|p| user::ActiveModel {
            username: Set(p.username.clone()),
            display_name: Set(p.display_name.clone()),
            phone: Set(p.phone.clone()),
            avatar_url: Set(None),
            password_hash: Set(hash.to_owned()),
            active: Set(true),
            must_change_password: Set(true),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec_with_returning(txn)
        .await
        .map_err(|e| {
            AppError::on_unique(
                e,
                ErrorReason::UsernameTaken,
                "导入期间有用户名被他人占用，请重新导入",
            )
        })?;
        let id_of: HashMap<&str, i64> = users.iter().map(|u| (u.username.as_str(), u.id)).collect();
        let ids: Vec<i64> = chunk
            .iter()
            .map(|p| {
                id_of
                    .get(p.username.as_str())
                    .copied()
                    .ok_or_else(|| AppError::internal("imported user not returned"))
            })
            .collect::<AppResult<_>>()?;
        let grants = role_grant::Entity::insert_many(chunk.iter().zip(&ids).map(|(p, id)| {
            role_grant::ActiveModel {
                user_id: Set(*id),
                role: Set(p.role),
                community_id: Set(Some(community_id)),
                valid_from: Set(today),
                granted_by: Set(Some(actor.id())),
                granted_at: Set(now),
                ..Default::default()
            }
        }))
        .exec_with_returning(txn)
        .await?;
        role_assignment::Entity::insert_many(grants.iter().map(|g| role_assignment::ActiveModel {
            user_id: Set(g.user_id),
            role: Set(g.role),
            community_id: Set(g.community_id),
            created_at: Set(now),
            grant_id: Set(Some(g.id)),
            ..Default::default()
        }))
        .exec_without_returning(txn)
        .await?;
        let opened: Vec<passbook::ActiveModel> = chunk
            .iter()
            .zip(&ids)
            .filter(|(p, _)| p.passbook)
            .map(|(p, id)| passbook::ActiveModel {
                holder_id: Set(*id),
                community_id: Set(community_id),
                grid_id: Set(p.grid_id),
                number: Set(crate::bank::rules::passbook_number(community_id, *id)),
                opened_on: Set(today),
                status: Set(PassbookStatus::Active),
                balance: Set(0),
                created_at: Set(now),
                ..Default::default()
            })
            .collect();
        if !opened.is_empty() {
            books += opened.len();
            passbook::Entity::insert_many(opened)
                .exec_without_returning(txn)
                .await?;
        }
        created += chunk.len();
    }
    Ok((created, books))
}
