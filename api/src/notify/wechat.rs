//! The WeChat channel: a one-time subscription message (小程序订阅消息) to the openid bound
//! through WeChat login, spending one of the person's consents for the kind's template.
//! Each field is cut to its type's limit (WeChat refuses a message with a field too long).

use entity::wechat_consent;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::core::config::Config;
use crate::core::wechat::{SendRefusal, send_subscribe_message};

use super::delivery::{Outcome, Outgoing};

/// The longest value WeChat takes for a field, by the type its key starts with (`thing1`:
/// 20 characters); `None` for types whose value has a fixed format (`time`, `date`).
pub fn field_limit(key: &str) -> Option<usize> {
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    match kind {
        "thing" => Some(20),
        "phrase" | "symbol" => Some(5),
        "name" => Some(10),
        "amount" => Some(10),
        "car_number" => Some(8),
        "character_string" | "number" | "letter" | "phone_number" => Some(32),
        _ => None,
    }
}

/// A field's value within its limit: cut, with `…` as the last character where text was cut.
pub fn fit(key: &str, value: &str) -> String {
    match field_limit(key) {
        Some(max) if value.chars().count() > max => {
            let mut s: String = value.chars().take(max - 1).collect();
            s.push('…');
            s
        }
        _ => value.to_owned(),
    }
}

/// The template's `data` of a message's stored fields.
pub fn data_of(fields: &str) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(fields).unwrap_or_default();
    let data: serde_json::Map<String, serde_json::Value> = map
        .into_iter()
        .map(|(k, v)| {
            let value = fit(&k, v.as_str().unwrap_or_default());
            (k, serde_json::json!({ "value": value }))
        })
        .collect();
    serde_json::Value::Object(data)
}

/// Takes one consent for the template: false when the person has none left.
async fn spend(db: &DatabaseConnection, user_id: i64, template: &str) -> Result<bool, String> {
    wechat_consent::Entity::update_many()
        .col_expr(
            wechat_consent::Column::Remaining,
            Expr::col(wechat_consent::Column::Remaining).sub(1),
        )
        .filter(wechat_consent::Column::UserId.eq(user_id))
        .filter(wechat_consent::Column::TemplateId.eq(template))
        .filter(wechat_consent::Column::Remaining.gt(0))
        .exec(db)
        .await
        .map(|r| r.rows_affected == 1)
        .map_err(|_| "数据库暂不可用".to_owned())
}

/// Gives a consent back (the message did not go).
async fn refund(db: &impl ConnectionTrait, user_id: i64, template: &str) {
    let _ = wechat_consent::Entity::update_many()
        .col_expr(
            wechat_consent::Column::Remaining,
            Expr::col(wechat_consent::Column::Remaining).add(1),
        )
        .filter(wechat_consent::Column::UserId.eq(user_id))
        .filter(wechat_consent::Column::TemplateId.eq(template))
        .filter(wechat_consent::Column::Remaining.lt(1000))
        .exec(db)
        .await;
}

/// Sends the message over WeChat, or says why not.
pub async fn deliver(db: &DatabaseConnection, config: &Config, out: &Outgoing) -> Outcome {
    let Some(wechat) = config.wechat.as_ref() else {
        return Outcome::Skipped("未配置微信小程序".into());
    };
    let Some(template) = config.notify.wechat_templates.get(&out.message.kind) else {
        return Outcome::Skipped("该类消息未配置订阅消息模板".into());
    };
    let Some(openid) = out.openid.as_deref() else {
        return Outcome::Skipped("未绑定微信".into());
    };
    match spend(db, out.message.recipient_id, template).await {
        Ok(true) => {}
        Ok(false) => return Outcome::Skipped("未获订阅授权（无剩余次数）".into()),
        Err(e) => return Outcome::Retry(e),
    }
    let data = data_of(&out.message.fields);
    let sent = send_subscribe_message(
        wechat,
        openid,
        template,
        out.message.page.as_deref(),
        &config.notify.miniprogram_state,
        &data,
    )
    .await;
    match sent {
        Ok(()) => Outcome::Sent(None),
        Err(SendRefusal::NotAllowed) => {
            // The person refused the template: their remaining consents are void.
            let _ = wechat_consent::Entity::update_many()
                .col_expr(wechat_consent::Column::Remaining, Expr::value(0))
                .filter(wechat_consent::Column::UserId.eq(out.message.recipient_id))
                .filter(wechat_consent::Column::TemplateId.eq(template.as_str()))
                .exec(db)
                .await;
            Outcome::Failed("用户拒收该模板消息（43101）".into())
        }
        Err(SendRefusal::Rejected(code, msg)) => {
            refund(db, out.message.recipient_id, template).await;
            Outcome::Failed(format!(
                "微信拒绝（{code}）：{}",
                msg.chars().take(200).collect::<String>()
            ))
        }
        Err(SendRefusal::Unavailable(why)) => {
            refund(db, out.message.recipient_id, template).await;
            Outcome::Retry(format!("微信暂不可用：{why}"))
        }
    }
}
