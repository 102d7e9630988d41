//! What the wish domain tells people, written in the transaction of the change: who is told
//! and what they read. A wish's title is public on the wall; the beneficiary's name, phone
//! and address, and the claimant's, are never put in a message.

use entity::wish;

use crate::notify::kinds::Kind;
use crate::notify::outbox::local_time;
use crate::notify::outbox::{Message, Recipients};

fn page(w: &wish::Model) -> Option<String> {
    Some(format!("pages/wish/detail?id={}", w.id))
}

/// The people a wish is for: its submitter and its beneficiary's account (each once).
fn owners(w: &wish::Model) -> Recipients {
    let mut ids = vec![w.submitted_by];
    ids.extend(w.beneficiary_user_id);
    ids.dedup();
    Recipients::Users(ids)
}

/// Claimed: the submitter and the beneficiary learn that a party member took it on.
pub fn claimed(w: &wish::Model) -> (Recipients, Message) {
    let now = crate::core::clock::now();
    (
        owners(w),
        Message {
            kind: Kind::WishClaimed,
            title: "心愿已被认领".into(),
            body: format!("心愿「{}」已有党员认领，圆梦人会尽快与您联系。", w.title),
            page: page(w),
            subject: Some(("Wish", w.id)),
            fields: vec![
                ("thing1", w.title.clone()),
                ("phrase2", "已认领".into()),
                ("time3", local_time(now)),
            ],
            dedup_key: None,
        },
    )
}

/// Fulfilled: the submitter and the beneficiary are asked to confirm.
pub fn fulfilled(w: &wish::Model) -> (Recipients, Message) {
    let now = crate::core::clock::now();
    (
        owners(w),
        Message {
            kind: Kind::WishFulfilled,
            title: "心愿已完成，请确认".into(),
            body: format!("心愿「{}」的圆梦人已提交完成情况，请查看并确认。", w.title),
            page: page(w),
            subject: Some(("Wish", w.id)),
            fields: vec![
                ("thing1", w.title.clone()),
                ("phrase2", "待确认".into()),
                ("time3", local_time(now)),
            ],
            dedup_key: None,
        },
    )
}

/// Confirmed: the claimant learns it counted, and the points earned.
pub fn confirmed(w: &wish::Model, claimant: i64, points: i64) -> (Recipients, Message) {
    let now = crate::core::clock::now();
    (
        Recipients::Users(vec![claimant]),
        Message {
            kind: Kind::WishConfirmed,
            title: "圆梦已确认".into(),
            body: format!(
                "您认领的心愿「{}」已确认完成，获得 {points} 积分。",
                w.title
            ),
            page: page(w),
            subject: Some(("Wish", w.id)),
            fields: vec![
                ("thing1", w.title.clone()),
                ("phrase2", "已确认".into()),
                ("number3", points.to_string()),
                ("time4", local_time(now)),
            ],
            dedup_key: None,
        },
    )
}

/// Expired: the submitter, the beneficiary and the claimant (if it was claimed) learn that
/// its deadline passed; once per wish.
pub fn expired(w: &wish::Model) -> (Recipients, Message) {
    let mut ids = vec![w.submitted_by];
    ids.extend(w.beneficiary_user_id);
    ids.extend(w.claimant_id);
    ids.sort_unstable();
    ids.dedup();
    (
        Recipients::Users(ids),
        Message {
            kind: Kind::WishExpired,
            title: "心愿已过期".into(),
            body: format!("心愿「{}」已过截止日期，未能完成。", w.title),
            page: page(w),
            subject: Some(("Wish", w.id)),
            fields: vec![
                ("thing1", w.title.clone()),
                ("phrase2", "已过期".into()),
                (
                    "date3",
                    w.deadline
                        .map(|d| d.format("%Y年%m月%d日").to_string())
                        .unwrap_or_default(),
                ),
            ],
            dedup_key: Some(format!("wish-{}-expired", w.id)),
        },
    )
}
