//! Demo data for `serve --demo`: a street modelled on 仙林街道 with communities, grids,
//! staff, organisations, accounts and member registrations.

mod incidents;

use chrono::Duration;
use entity::{
    community, grid, grid::GridKind, grid_registration, grid_registration::RegistrationStatus,
    grid_staff, grid_staff::StaffRole, organization, organization::OrganizationKind,
    role_assignment::Role, street, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use crate::account::rules::RoleGrant;
use crate::account::rules::insert_user;
use crate::auth;
use crate::core::config::Config;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "lianxin-demo";

/// A demo account, printed at start-up and listed in the README.
pub struct DemoAccount {
    pub username: &'static str,
    pub description: &'static str,
}

/// Whether the database holds no data yet (no users, no streets).
pub async fn is_empty(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(user::Entity::find().count(db).await? == 0 && street::Entity::find().count(db).await? == 0)
}

/// A role with its community, grid and organisation scope.
type Scoped = (Role, Option<i64>, Option<i64>, Option<i64>);

struct Seed<'a> {
    db: &'a DatabaseConnection,
    hash: String,
}

impl Seed<'_> {
    async fn community(
        &self,
        street: i64,
        name: &str,
        phone: &str,
        address: &str,
    ) -> AppResult<community::Model> {
        Ok(community::ActiveModel {
            street_id: Set(street),
            name: Set(name.into()),
            phone: Set(Some(phone.into())),
            address: Set(Some(address.into())),
            created_at: Set(crate::core::clock::now()),
            ..Default::default()
        }
        .insert(self.db)
        .await?)
    }

    async fn grid(
        &self,
        community: i64,
        parent: Option<i64>,
        name: &str,
        kind: GridKind,
        households: i32,
    ) -> AppResult<grid::Model> {
        Ok(grid::ActiveModel {
            community_id: Set(community),
            parent_id: Set(parent),
            name: Set(name.into()),
            kind: Set(kind),
            households: Set(households),
            description: Set(None),
            created_at: Set(crate::core::clock::now()),
            ..Default::default()
        }
        .insert(self.db)
        .await?)
    }

    async fn org(
        &self,
        name: &str,
        kind: OrganizationKind,
        parent: Option<i64>,
        community: Option<i64>,
    ) -> AppResult<organization::Model> {
        Ok(organization::ActiveModel {
            name: Set(name.into()),
            kind: Set(kind),
            parent_id: Set(parent),
            community_id: Set(community),
            created_at: Set(crate::core::clock::now()),
            ..Default::default()
        }
        .insert(self.db)
        .await?)
    }

    async fn user(
        &self,
        username: &str,
        name: &str,
        phone: Option<&str>,
        roles: &[Scoped],
    ) -> AppResult<user::Model> {
        let grants: Vec<RoleGrant> = roles
            .iter()
            .map(|(role, c, g, o)| RoleGrant {
                role: *role,
                community_id: *c,
                grid_id: *g,
                organization_id: *o,
            })
            .collect();
        insert_user(
            self.db,
            username,
            name,
            phone.map(Into::into),
            None,
            self.hash.clone(),
            &grants,
            None,
        )
        .await
    }

    async fn post(&self, grid: &grid::Model, user: &user::Model, role: StaffRole) -> AppResult<()> {
        grid_staff::ActiveModel {
            grid_id: Set(grid.id),
            user_id: Set(user.id),
            role: Set(role),
            start_date: Set(chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
                .ok_or_else(|| AppError::internal("date"))?),
            end_date: Set(None),
            created_at: Set(crate::core::clock::now()),
            ..Default::default()
        }
        .insert(self.db)
        .await?;
        Ok(())
    }
}

/// Fills an empty database with demo data; refuses a database that already has data.
/// Every account of the demo data (all with the password [`DEMO_PASSWORD`]).
pub fn accounts() -> Vec<DemoAccount> {
    vec![
        DemoAccount {
            username: "admin",
            description: "ADMIN 街道管理员",
        },
        DemoAccount {
            username: "staff",
            description: "COMMUNITY_STAFF 汇通社区社工",
        },
        DemoAccount {
            username: "grid",
            description: "GRID_WORKER 汇通第一网格网格长",
        },
        DemoAccount {
            username: "member1",
            description: "PARTY_MEMBER 已报到汇通第一网格",
        },
        DemoAccount {
            username: "member2",
            description: "PARTY_MEMBER 报到待审核",
        },
        DemoAccount {
            username: "resident1",
            description: "RESIDENT 汇通社区居民",
        },
        DemoAccount {
            username: "student1",
            description: "STUDENT + PARTY_MEMBER 学生党支部",
        },
        DemoAccount {
            username: "rep-school",
            description: "UNIT_REP 信息工程学院学生党支部",
        },
        DemoAccount {
            username: "rep-power",
            description: "UNIT_REP 仙林供电所党支部",
        },
        DemoAccount {
            username: "rep-huitong",
            description: "UNIT_REP 汇通社区居民党支部",
        },
        DemoAccount {
            username: "rep-wenzong",
            description: "UNIT_REP 中共文宗社区委员会",
        },
        DemoAccount {
            username: "wz-staff",
            description: "COMMUNITY_STAFF 文宗社区社工",
        },
        DemoAccount {
            username: "ht1-worker",
            description: "GRID_WORKER 汇通第一网格网格员",
        },
        DemoAccount {
            username: "ht1-aux",
            description: "GRID_WORKER 汇通第一网格专职网格员",
        },
        DemoAccount {
            username: "ht1a-leader",
            description: "GRID_WORKER 汇通一网格 1 号楼微网格长",
        },
        DemoAccount {
            username: "ht2-leader",
            description: "GRID_WORKER 汇通第二网格网格长",
        },
        DemoAccount {
            username: "school-grid",
            description: "GRID_WORKER 仙林大学城专属网格网格长",
        },
        DemoAccount {
            username: "wz1-leader",
            description: "GRID_WORKER 文宗第一网格网格长",
        },
        DemoAccount {
            username: "xh1-leader",
            description: "GRID_WORKER 仙鹤社区网格长",
        },
    ]
}

pub async fn seed(db: &DatabaseConnection, config: &Config) -> AppResult<Vec<DemoAccount>> {
    if !is_empty(db).await? {
        return Err(AppError::invalid_state(
            ErrorReason::DatabaseNotEmpty,
            "数据库已有数据，不写入演示数据",
        ));
    }
    let s = Seed {
        db,
        hash: auth::hash_password(DEMO_PASSWORD.to_owned()).await?,
    };
    let street = street::ActiveModel {
        name: Set("仙林街道".into()),
        phone: Set(Some("025-85550000".into())),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let huitong = s
        .community(
            street.id,
            "汇通社区",
            "025-85550101",
            "南京市栖霞区仙林街道汇通路 8 号",
        )
        .await?;
    let wenzong = s
        .community(
            street.id,
            "文宗社区",
            "025-85550202",
            "南京市栖霞区仙林街道文枢东路 16 号",
        )
        .await?;
    let xianhe = s
        .community(
            street.id,
            "仙鹤社区",
            "025-85550303",
            "南京市栖霞区仙林街道仙鹤街 3 号",
        )
        .await?;

    use GridKind::*;
    let ht1 = s
        .grid(huitong.id, None, "汇通第一网格", Comprehensive, 420)
        .await?;
    let ht2 = s
        .grid(huitong.id, None, "汇通第二网格", Comprehensive, 386)
        .await?;
    let ht_school = s
        .grid(huitong.id, None, "仙林大学城专属网格", Dedicated, 0)
        .await?;
    let ht1a = s
        .grid(
            huitong.id,
            Some(ht1.id),
            "汇通一网格 1 号楼微网格",
            Micro,
            52,
        )
        .await?;
    let ht1b = s
        .grid(
            huitong.id,
            Some(ht1.id),
            "汇通一网格 2 号楼微网格",
            Micro,
            48,
        )
        .await?;
    let wz1 = s
        .grid(wenzong.id, None, "文宗第一网格", Comprehensive, 455)
        .await?;
    let wz_market = s
        .grid(wenzong.id, None, "文宗农贸市场专属网格", Dedicated, 0)
        .await?;
    s.grid(wenzong.id, Some(wz1.id), "文宗一网格 5 栋微网格", Micro, 50)
        .await?;
    let xh1 = s
        .grid(xianhe.id, None, "仙鹤第一网格", Comprehensive, 312)
        .await?;
    let _ = (&ht1b, &wz_market);

    use OrganizationKind::*;
    let gwc = s
        .org("中共仙林街道工作委员会", PartyWorkingCommittee, None, None)
        .await?;
    let ht_committee = s
        .org(
            "中共汇通社区委员会",
            PartyCommittee,
            Some(gwc.id),
            Some(huitong.id),
        )
        .await?;
    let ht_branch = s
        .org(
            "汇通社区居民党支部",
            Branch,
            Some(ht_committee.id),
            Some(huitong.id),
        )
        .await?;
    let wz_committee = s
        .org(
            "中共文宗社区委员会",
            PartyCommittee,
            Some(gwc.id),
            Some(wenzong.id),
        )
        .await?;
    s.org(
        "文宗社区第一党支部",
        Branch,
        Some(wz_committee.id),
        Some(wenzong.id),
    )
    .await?;
    let school = s
        .org("南京仙林大学信息工程学院", School, None, Some(huitong.id))
        .await?;
    let student_branch = s
        .org(
            "信息工程学院学生党支部",
            Branch,
            Some(school.id),
            Some(huitong.id),
        )
        .await?;
    let power = s
        .org(
            "国网南京供电公司仙林供电所",
            Enterprise,
            None,
            Some(wenzong.id),
        )
        .await?;
    let power_branch = s
        .org("仙林供电所党支部", Branch, Some(power.id), Some(wenzong.id))
        .await?;
    let hospital = s
        .org("仙林鼓楼医院", Hospital, None, Some(xianhe.id))
        .await?;
    let hotel = s
        .org("仙林湖酒店", Enterprise, None, Some(xianhe.id))
        .await?;

    s.user(
        "admin",
        "街道管理员",
        Some("025-85550000"),
        &[(Role::Admin, None, None, None)],
    )
    .await?;
    s.user(
        "staff",
        "陈社工",
        Some("13905140001"),
        &[(Role::CommunityStaff, Some(huitong.id), None, None)],
    )
    .await?;
    let grid_user = s
        .user(
            "grid",
            "李网格",
            Some("13812345678"),
            &[(Role::GridWorker, None, Some(ht1.id), None)],
        )
        .await?;
    s.post(&ht1, &grid_user, StaffRole::Leader).await?;
    let worker = s
        .user(
            "ht1-worker",
            "赵红梅",
            Some("13851700002"),
            &[(Role::GridWorker, None, Some(ht1.id), None)],
        )
        .await?;
    s.post(&ht1, &worker, StaffRole::Worker).await?;
    let aux = s
        .user(
            "ht1-aux",
            "孙志强",
            Some("13851700003"),
            &[(Role::GridWorker, None, Some(ht1.id), None)],
        )
        .await?;
    s.post(&ht1, &aux, StaffRole::Auxiliary).await?;
    let micro = s
        .user(
            "ht1a-leader",
            "周阿姨",
            Some("13851700004"),
            &[(Role::GridWorker, None, Some(ht1a.id), None)],
        )
        .await?;
    s.post(&ht1a, &micro, StaffRole::Leader).await?;
    let mut leaders = Vec::new();
    for (username, name, phone, g) in [
        ("ht2-leader", "吴建国", "13851700005", &ht2),
        ("school-grid", "郑晓", "13851700006", &ht_school),
        ("wz1-leader", "王立新", "13851700007", &wz1),
        ("xh1-leader", "冯雪", "13851700008", &xh1),
    ] {
        let u = s
            .user(
                username,
                name,
                Some(phone),
                &[(Role::GridWorker, None, Some(g.id), None)],
            )
            .await?;
        s.post(g, &u, StaffRole::Leader).await?;
        leaders.push(u.id);
    }
    s.user(
        "wz-staff",
        "文宗社工",
        Some("13905140002"),
        &[(Role::CommunityStaff, Some(wenzong.id), None, None)],
    )
    .await?;
    let member1 = s
        .user(
            "member1",
            "王建华",
            Some("13770001111"),
            &[(Role::PartyMember, Some(huitong.id), None, None)],
        )
        .await?;
    let member2 = s
        .user(
            "member2",
            "刘晓燕",
            Some("13770002222"),
            &[(Role::PartyMember, Some(huitong.id), None, None)],
        )
        .await?;
    let resident1 = s
        .user(
            "resident1",
            "王秀英",
            Some("13770003333"),
            &[(Role::Resident, Some(huitong.id), None, None)],
        )
        .await?;
    s.user(
        "student1",
        "林小舟",
        Some("13770004444"),
        &[
            (Role::Student, None, None, Some(student_branch.id)),
            (Role::PartyMember, None, None, None),
        ],
    )
    .await?;
    s.user(
        "rep-school",
        "何老师",
        Some("13770005555"),
        &[(Role::UnitRep, None, None, Some(student_branch.id))],
    )
    .await?;
    s.user(
        "rep-power",
        "钱主任",
        Some("13770006666"),
        &[(Role::UnitRep, None, None, Some(power_branch.id))],
    )
    .await?;
    s.user(
        "rep-huitong",
        "赵书记",
        Some("13770007777"),
        &[(Role::UnitRep, None, None, Some(ht_branch.id))],
    )
    .await?;
    s.user(
        "rep-wenzong",
        "孙书记",
        Some("13770008888"),
        &[(Role::UnitRep, None, None, Some(wz_committee.id))],
    )
    .await?;
    seed_schedule(db, config, huitong.id, ht1.id, student_branch.id).await?;
    seed_alliances(
        db,
        [
            gwc.id,
            ht_committee.id,
            ht_branch.id,
            wz_committee.id,
            student_branch.id,
            power_branch.id,
            power.id,
            hospital.id,
            hotel.id,
        ],
    )
    .await?;
    incidents::seed(db, config, ht1.id, power_branch.id).await?;

    let now = crate::core::clock::now();
    grid_registration::ActiveModel {
        member_id: Set(member1.id),
        community_id: Set(huitong.id),
        grid_id: Set(Some(ht1.id)),
        home_organization_id: Set(Some(power_branch.id)),
        home_organization_name: Set(power_branch.name.clone()),
        service_kinds: Set(r#"["政策宣传","邻里互助"]"#.into()),
        note: Set(Some("周末可参加志愿服务".into())),
        status: Set(RegistrationStatus::Approved),
        review_reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(Some(now - Duration::days(30))),
        created_at: Set(now - Duration::days(31)),
        updated_at: Set(now - Duration::days(30)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    grid_registration::ActiveModel {
        member_id: Set(member2.id),
        community_id: Set(huitong.id),
        grid_id: Set(Some(ht2.id)),
        home_organization_id: Set(None),
        home_organization_name: Set("南京市栖霞区教育局机关党支部".into()),
        service_kinds: Set(r#"["学业辅导"]"#.into()),
        note: Set(None),
        status: Set(RegistrationStatus::Pending),
        review_reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        created_at: Set(now - Duration::days(2)),
        updated_at: Set(now - Duration::days(2)),
        ..Default::default()
    }
    .insert(db)
    .await?;

    seed_wishes_and_bank(
        db,
        config,
        Ids {
            huitong: huitong.id,
            ht1: ht1.id,
            ht2: ht2.id,
            wz1: wz1.id,
            grid_user: grid_user.id,
            ht2_leader: leaders[0],
            wz_leader: leaders[2],
            member1: member1.id,
            member2: member2.id,
            resident1: resident1.id,
        },
    )
    .await?;

    Ok(accounts())
}

struct Ids {
    huitong: i64,
    ht1: i64,
    ht2: i64,
    wz1: i64,
    grid_user: i64,
    ht2_leader: i64,
    wz_leader: i64,
    member1: i64,
    member2: i64,
    resident1: i64,
}

/// Wishes in several states and grids, passbooks with history, and a reward catalogue —
/// written through the services so that every rule (and the ledger) holds.
async fn seed_wishes_and_bank(db: &DatabaseConnection, config: &Config, ids: Ids) -> AppResult<()> {
    use crate::{bank::rules as bank, wish::rules as wish};
    // No one subscribes while the demo is seeded; the rules still publish.
    let events = crate::core::bus::Bus::default();
    use entity::wish::WishCategory;
    let who = |id: i64| auth::load_auth_user(db, id);
    let admin = auth::load_auth_user(db, 1).await?;
    let grid = who(ids.grid_user).await?;
    let ht2_leader = who(ids.ht2_leader).await?;
    let wz_leader = who(ids.wz_leader).await?;
    let resident = who(ids.resident1).await?;
    let member1 = who(ids.member1).await?;
    let member2 = who(ids.member2).await?;
    let deadline = crate::core::validate::today() + Duration::days(30);
    let new = |grid_id: i64,
               title: &str,
               description: &str,
               category: WishCategory,
               value: i32,
               name: Option<&str>,
               phone: Option<&str>,
               address: Option<&str>| wish::NewWish {
        grid_id,
        title: title.into(),
        description: description.into(),
        category,
        estimated_value: value,
        deadline: Some(deadline),
        beneficiary_name: name.map(Into::into),
        beneficiary_user_id: None,
        beneficiary_phone: phone.map(Into::into),
        beneficiary_address: address.map(Into::into),
    };
    // 1: published, by a resident for herself.
    let w1 = wish::submit(
        db,
        config,
        &resident,
        new(
            ids.ht1,
            "想要一台收音机",
            "老伴走后一个人在家，想听听戏曲广播。",
            WishCategory::Goods,
            120,
            None,
            None,
            Some("汇通路 8 号 3 栋 201"),
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w1.id, wish::Review::Publish).await?;
    // 2: claimed by member1, submitted by the grid leader for an elder without the app.
    let w2 = wish::submit(
        db,
        config,
        &grid,
        new(
            ids.ht1,
            "陪张奶奶聊聊天",
            "张奶奶独居，希望每周有人上门陪伴聊天。",
            WishCategory::Companionship,
            0,
            Some("张桂兰"),
            Some("13851709999"),
            Some("汇通路 8 号 5 栋 102"),
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w2.id, wish::Review::Publish).await?;
    wish::claim(db, &events, config, &member1, w2.id).await?;
    // 3: confirmed, fulfilled by member2 (points deposited to member2's passbook).
    let w3 = wish::submit(
        db,
        config,
        &ht2_leader,
        new(
            ids.ht2,
            "帮李爷爷修理水龙头",
            "厨房水龙头漏水，老人行动不便。",
            WishCategory::Service,
            30,
            Some("李德明"),
            Some("13851708888"),
            Some("汇通路 12 号 1 栋 301"),
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w3.id, wish::Review::Publish).await?;
    wish::claim(db, &events, config, &member2, w3.id).await?;
    wish::fulfil(
        db,
        &events,
        &member2,
        w3.id,
        "已更换新的水龙头，检查无漏水。",
        vec!["https://img.example.cn/lianxin/demo/faucet.jpg".into()],
        Vec::new(),
    )
    .await?;
    wish::confirm(
        db,
        &events,
        config,
        &ht2_leader,
        w3.id,
        5,
        Some("李爷爷很满意，谢谢！".into()),
    )
    .await?;
    // 4: published in 文宗社区.
    let w4 = wish::submit(
        db,
        config,
        &wz_leader,
        new(
            ids.wz1,
            "辅导孩子数学功课",
            "双职工家庭，孩子五年级，希望每周辅导一次数学。",
            WishCategory::Service,
            0,
            Some("陈晓梅"),
            Some("13851707777"),
            None,
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w4.id, wish::Review::Publish).await?;
    // 5: waiting for review.
    wish::submit(
        db,
        config,
        &resident,
        new(
            ids.ht1,
            "需要一副老花镜",
            "看报纸看不清，想配一副老花镜。",
            WishCategory::Goods,
            80,
            None,
            None,
            None,
        ),
    )
    .await?;

    // 6: fulfilled by member2, waiting for the beneficiary's confirmation.
    let w6 = wish::submit(
        db,
        config,
        &ht2_leader,
        new(
            ids.ht2,
            "给赵阿姨送一袋大米",
            "赵阿姨腿脚不便，家里的米快吃完了。",
            WishCategory::Goods,
            60,
            Some("赵玉珍"),
            Some("13851706666"),
            Some("汇通路 12 号 2 栋 402"),
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w6.id, wish::Review::Publish).await?;
    wish::claim(db, &events, config, &member2, w6.id).await?;
    wish::fulfil(
        db,
        &events,
        &member2,
        w6.id,
        "已送到家中，赵阿姨收下了。",
        Vec::new(),
        Vec::new(),
    )
    .await?;
    // 7: rejected in review.
    let w7 = wish::submit(
        db,
        config,
        &resident,
        new(
            ids.ht1,
            "想要一部新手机",
            "旧手机用了很多年，想换一部新的。",
            WishCategory::Goods,
            500,
            None,
            None,
            None,
        ),
    )
    .await?;
    wish::review(
        db,
        &events,
        &admin,
        w7.id,
        wish::Review::Reject {
            reason: "非急需物品，建议通过社区二手交换群解决。".into(),
        },
    )
    .await?;
    // 8: cancelled by its submitter.
    let w8 = wish::submit(
        db,
        config,
        &resident,
        new(
            ids.ht1,
            "请人帮忙搬花盆",
            "阳台上的几盆花想搬到楼下花坛。",
            WishCategory::Service,
            0,
            None,
            None,
            None,
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w8.id, wish::Review::Publish).await?;
    wish::cancel(
        db,
        &events,
        &resident,
        w8.id,
        Some("儿子周末回来帮忙搬了。".into()),
    )
    .await?;
    // 9: published, then past its deadline without a claim: it reads EXPIRED. (A wish is
    // submitted with a future deadline; the demo moves this one's into the past.)
    let w9 = wish::submit(
        db,
        config,
        &wz_leader,
        new(
            ids.wz1,
            "中秋节陪孤寡老人吃月饼",
            "希望中秋节当天有人陪刘爷爷过节。",
            WishCategory::Companionship,
            0,
            Some("刘长顺"),
            Some("13851705555"),
            None,
        ),
    )
    .await?;
    wish::review(db, &events, &admin, w9.id, wish::Review::Publish).await?;
    entity::wish::Entity::update_many()
        .col_expr(
            entity::wish::Column::Deadline,
            sea_orm::sea_query::Expr::value(crate::core::validate::today() - Duration::days(2)),
        )
        .filter(entity::wish::Column::Id.eq(w9.id))
        .exec(db)
        .await?;

    // Passbooks with history, and the 爱心超市 of 汇通社区.
    let book = bank::open_passbook(db, &admin, ids.resident1, ids.huitong, Some(ids.ht1)).await?;
    bank::open_passbook(db, &admin, ids.member1, ids.huitong, Some(ids.ht1)).await?;
    let deed = bank::report_good_deed(
        db,
        &grid,
        bank::NewGoodDeed {
            holder_id: Some(ids.resident1),
            category_id: 2,
            description: "帮邻居照看生病的孩子".into(),
            occurred_on: crate::core::validate::today() - Duration::days(3),
        },
    )
    .await?;
    bank::review_good_deed(
        db,
        &events,
        &admin,
        deed.id,
        bank::DeedDecision::Approve { points: None },
        None,
    )
    .await?;
    let deed = bank::report_good_deed(
        db,
        &grid,
        bank::NewGoodDeed {
            holder_id: Some(ids.resident1),
            category_id: 5,
            description: "清理楼道堆放杂物".into(),
            occurred_on: crate::core::validate::today() - Duration::days(1),
        },
    )
    .await?;
    bank::review_good_deed(
        db,
        &events,
        &admin,
        deed.id,
        bank::DeedDecision::Approve { points: None },
        None,
    )
    .await?;
    bank::report_good_deed(
        db,
        &resident,
        bank::NewGoodDeed {
            holder_id: None,
            category_id: 1,
            description: "参加社区垃圾分类宣传志愿服务".into(),
            occurred_on: crate::core::validate::today(),
        },
    )
    .await?;
    let _ = book;
    for (name, description, cost, stock) in [
        ("毛巾", "纯棉毛巾一条", 5, 100),
        ("洗衣液", "2 kg 装洗衣液一瓶", 15, 30),
        ("大米", "5 kg 装东北大米一袋", 40, 20),
    ] {
        bank::create_reward(
            db,
            &admin,
            bank::NewReward {
                community_id: ids.huitong,
                name: name.into(),
                description: Some(description.into()),
                cost,
                stock,
            },
        )
        .await?;
    }
    bank::redeem(db, &member2, 1, 2, None).await?;
    Ok(())
}

/// The street's party-building alliance and its co-building agreements, signed through the
/// services: the 汇通社区—学生党支部 agreement is ACTIVE (it makes students eligible for the
/// community's assistant slots), so is 文宗社区—供电所; a third awaits a signature.
async fn seed_alliances(db: &DatabaseConnection, orgs: [i64; 9]) -> AppResult<()> {
    use crate::alliance::rules as svc;
    use entity::{agreement_kind::AgreementKind::*, alliance::AllianceScope};
    let [
        gwc,
        ht_committee,
        ht_branch,
        wz_committee,
        student_branch,
        power_branch,
        power,
        hospital,
        hotel,
    ] = orgs;
    let by_name = |name: &'static str| async move {
        let u = user::Entity::find()
            .filter(user::Column::Username.eq(name))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("demo user"))?;
        auth::load_auth_user(db, u.id).await
    };
    let admin = by_name("admin").await?;
    let alliance = svc::create_alliance(
        db,
        &admin,
        svc::NewAlliance {
            name: "仙林街道党建联盟".into(),
            lead_organization_id: gwc,
            scope: AllianceScope::Street,
            street_id: None,
            community_id: None,
            description: Some("街道党工委牵头，辖区社区、高校、企业和医院党组织共建共享".into()),
        },
    )
    .await?;
    let today = crate::core::validate::today();
    for org in [
        ht_committee,
        wz_committee,
        student_branch,
        power_branch,
        power,
        hospital,
        hotel,
    ] {
        svc::add_member(
            db,
            &admin,
            alliance.id,
            org,
            Some(today - Duration::days(120)),
        )
        .await?;
    }
    let text = |title: &str,
                kinds: Vec<entity::agreement_kind::AgreementKind>,
                parties: Vec<i64>,
                commitments: &[&str]| svc::AgreementText {
        title: title.into(),
        kinds,
        party_ids: parties,
        commitments: commitments.iter().map(|c| (*c).to_owned()).collect(),
        start_date: today - Duration::days(80),
        end_date: today + Duration::days(285),
        alliance_id: Some(alliance.id),
    };
    let a1 = svc::propose(
        db,
        &crate::core::bus::Bus::default(),
        &admin,
        text(
            "汇通社区居民党支部—信息工程学院学生党支部结对共建协议",
            vec![JointActivities, MutualService],
            vec![ht_branch, student_branch],
            &[
                "学生党员每周三下午担任网格员助理",
                "共同开展主题党日活动",
                "为社区青少年提供学业辅导",
            ],
        ),
        false,
    )
    .await?;
    svc::sign(db, &by_name("rep-huitong").await?, a1.id, None).await?;
    svc::sign(db, &by_name("rep-school").await?, a1.id, None).await?;
    svc::record_activity(
        db,
        &admin,
        a1.id,
        svc::NewActivity {
            held_on: today - Duration::days(30),
            title: "学生党员入户走访独居老人".into(),
            participants: 12,
            notes: Some("走访 20 户，登记需求 6 项".into()),
        },
    )
    .await?;
    svc::record_activity(
        db,
        &admin,
        a1.id,
        svc::NewActivity {
            held_on: today - Duration::days(10),
            title: "社区青少年周末学业辅导".into(),
            participants: 18,
            notes: None,
        },
    )
    .await?;
    let a2 = svc::propose(
        db,
        &crate::core::bus::Bus::default(),
        &admin,
        text(
            "文宗社区党委—仙林供电所党支部共建共享协议",
            vec![SharedVenues, JointEpidemicPrevention],
            vec![wz_committee, power_branch],
            &["供电所会议室向社区开放", "联合开展用电安全入户检查"],
        ),
        false,
    )
    .await?;
    svc::sign(db, &by_name("rep-wenzong").await?, a2.id, None).await?;
    svc::sign(db, &by_name("rep-power").await?, a2.id, None).await?;
    let a3 = svc::propose(
        db,
        &crate::core::bus::Bus::default(),
        &admin,
        text(
            "汇通社区党委—仙林供电所党支部服务互助协议",
            vec![MutualService],
            vec![ht_committee, power_branch],
            &["为困难家庭免费检修线路"],
        ),
        false,
    )
    .await?;
    svc::sign(db, &by_name("rep-power").await?, a3.id, None).await?;
    Ok(())
}

/// A Wednesday-afternoon assistant slot at 汇通社区 for the student party branch, with
/// attendance history (three completed shifts) and the next shift signed up for `student1`.
async fn seed_schedule(
    db: &DatabaseConnection,
    config: &Config,
    huitong: i64,
    ht1: i64,
    student_branch: i64,
) -> AppResult<()> {
    use crate::{bank::rules as bank, schedule::rules as schedule};
    let events = crate::core::bus::Bus::default();
    use entity::{
        ledger_entry::{EntryKind, EntrySource},
        shift, shift_signup,
        shift_signup::SignupStatus,
    };
    use sea_orm::{
        QueryOrder,
        sea_query::{Expr, ExprTrait},
    };
    let admin = auth::load_auth_user(db, 1).await?;
    let find = |name: &'static str| async move {
        let u = user::Entity::find()
            .filter(user::Column::Username.eq(name))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("demo user"))?;
        auth::load_auth_user(db, u.id).await
    };
    let student = find("student1").await?;
    let grid = find("grid").await?;
    let today = crate::core::validate::today();
    let slot = schedule::create_slot(
        db,
        &admin,
        schedule::NewSlot {
            community_id: huitong,
            grid_id: Some(ht1),
            title: "周三下午网格员助理".into(),
            tasks: vec![
                "入户走访独居老人".into(),
                "协助整理网格台账".into(),
                "社区学堂课业辅导".into(),
            ],
            weekday: 3,
            start_time: "14:00".into(),
            end_time: "17:00".into(),
            capacity: 4,
            valid_from: today - Duration::days(63),
            valid_to: today + Duration::days(56),
            skipped_dates: Vec::new(),
            eligible_organization_ids: vec![student_branch],
        },
    )
    .await?;
    let now = crate::core::clock::now();
    let past = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::EndsAt.lt(now))
        .order_by_desc(shift::Column::StartsAt)
        .all(db)
        .await?;
    // History: the last three past shifts, completed.
    for sh in past.iter().take(3) {
        let txn = crate::core::db::begin_write(db).await?;
        shift::Entity::update_many()
            .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).add(1))
            .filter(shift::Column::Id.eq(sh.id))
            .exec(&txn)
            .await?;
        let row = shift_signup::ActiveModel {
            shift_id: Set(sh.id),
            student_id: Set(student.id()),
            status: Set(SignupStatus::Completed),
            signed_up_at: Set(sh.starts_at - Duration::days(6)),
            checked_in_at: Set(Some(sh.starts_at)),
            checked_out_at: Set(Some(sh.ends_at)),
            attendance_by: Set(Some(grid.id())),
            minutes: Set(Some(180)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let book = bank::ensure_passbook(&txn, student.id(), huitong, Some(ht1)).await?;
        bank::post(
            &txn,
            bank::Posting {
                passbook_id: book.id,
                amount: 3 * config.points_per_hour,
                kind: EntryKind::Earn,
                source: EntrySource::Shift,
                source_id: Some(row.id),
                memo: format!("网格员助理服务：{} {}", slot.title, sh.date),
                operator_id: Some(grid.id()),
                reverses: None,
                at: Some(sh.ends_at),
            },
        )
        .await?;
        txn.commit().await?;
    }
    // The next shift, signed up through the service.
    if let Some(next) = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::StartsAt.gt(now))
        .order_by_asc(shift::Column::StartsAt)
        .one(db)
        .await?
    {
        schedule::sign_up(db, &events, config, &student, next.id).await?;
    }
    Ok(())
}
