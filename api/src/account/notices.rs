//! What the account domain tells a person about their own account: a password reset by
//! staff, a role granted or revoked.

use entity::{role_assignment::Role, role_grant};

use crate::notify::kinds::Kind;
use crate::notify::outbox::local_time;
use crate::notify::outbox::{Message, Recipients};

fn role_label(r: Role) -> &'static str {
    match r {
        Role::Admin => "街道管理员",
        Role::CommunityStaff => "社区工作人员",
        Role::GridWorker => "网格员",
        Role::PartyMember => "党员",
        Role::UnitRep => "共建单位联络人",
        Role::Student => "学生志愿者",
        Role::Resident => "居民",
    }
}

/// The person's password was reset: they log in with the temporary one and change it.
pub fn password_reset(user_id: i64) -> (Recipients, Message) {
    (
        Recipients::Users(vec![user_id]),
        Message {
            kind: Kind::PasswordReset,
            title: "密码已重置".into(),
            body:
                "您的密码已由工作人员重置，请使用临时密码登录并立即修改。如非本人申请，请联系社区。"
                    .into(),
            page: Some("pages/login/index".into()),
            subject: None,
            fields: vec![
                ("thing1", "密码已重置".into()),
                ("time2", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}

/// A role was granted to the person.
pub fn role_granted(g: &role_grant::Model) -> (Recipients, Message) {
    let label = role_label(g.role);
    (
        Recipients::Users(vec![g.user_id]),
        Message {
            kind: Kind::RoleGranted,
            title: "您获得了新角色".into(),
            body: format!("您已被授予「{label}」角色，自 {} 起生效。", g.valid_from),
            page: Some("pages/me/index".into()),
            subject: Some(("RoleGrant", g.id)),
            fields: vec![
                ("thing1", label.into()),
                ("phrase2", "已授予".into()),
                ("date3", g.valid_from.format("%Y年%m月%d日").to_string()),
            ],
            dedup_key: None,
        },
    )
}

/// A role of the person's was revoked.
pub fn role_revoked(g: &role_grant::Model) -> (Recipients, Message) {
    let label = role_label(g.role);
    (
        Recipients::Users(vec![g.user_id]),
        Message {
            kind: Kind::RoleRevoked,
            title: "角色已撤销".into(),
            body: format!("您的「{label}」角色已被撤销。"),
            page: Some("pages/me/index".into()),
            subject: Some(("RoleGrant", g.id)),
            fields: vec![
                ("thing1", label.into()),
                ("phrase2", "已撤销".into()),
                ("time3", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}
