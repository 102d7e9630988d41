//! The SMS channel, for urgent kinds: Tencent Cloud SMS `SendSms` (API 3.0, version
//! 2021-01-11), signed with TC3-HMAC-SHA256 as Tencent Cloud documents it. The endpoint comes
//! from the configuration, so tests point it at a local stand-in that checks the signature.
//! A person receives at most `daily_cap` texts per local day.

use chrono::{DateTime, Utc};
use entity::{notification, notification_delivery};
use hmac::{Hmac, Mac};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Query,
};
use sha2::{Digest, Sha256};

use crate::core::config::{Config, SmsConfig};
use crate::core::wechat::http;

use super::delivery::{Outcome, Outgoing};

type HmacSha256 = Hmac<Sha256>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a TC3-HMAC-SHA256 request: POST to `/` with no query, the
/// signed headers `content-type;host`, for `service` at `timestamp`.
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    content_type: &str,
    payload: &str,
    timestamp: i64,
) -> String {
    let date = DateTime::<Utc>::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{}",
        hex(&Sha256::digest(payload.as_bytes()))
    );
    let scope = format!("{date}/{service}/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), &date);
    let k_service = hmac(&k_date, service);
    let k_signing = hmac(&k_service, "tc3_request");
    let signature = hex(&hmac(&k_signing, &to_sign));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    )
}

/// Texts sent to the person since the start of the local day.
async fn sent_today(
    db: &DatabaseConnection,
    recipient: i64,
    now: DateTime<Utc>,
) -> Result<u64, String> {
    let today = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let midnight = crate::core::validate::local_midnight(today);
    notification_delivery::Entity::find()
        .filter(notification_delivery::Column::Channel.eq(notification_delivery::Channel::Sms))
        .filter(
            notification_delivery::Column::Status.eq(notification_delivery::DeliveryStatus::Sent),
        )
        .filter(notification_delivery::Column::UpdatedAt.gte(midnight))
        .filter(
            notification_delivery::Column::NotificationId.in_subquery(
                Query::select()
                    .column(notification::Column::Id)
                    .from(notification::Entity)
                    .and_where(notification::Column::RecipientId.eq(recipient))
                    .to_owned(),
            ),
        )
        .count(db)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "texts of today not counted");
            "数据库暂不可用".to_owned()
        })
}

/// Sends the message as a text, or says why not.
pub async fn deliver(db: &DatabaseConnection, config: &Config, out: &Outgoing) -> Outcome {
    let Some(sms) = config.notify.sms.as_ref() else {
        return Outcome::Skipped("未配置短信服务".into());
    };
    let Some(template) = sms.templates.get(&out.message.kind) else {
        return Outcome::Skipped("该类消息未配置短信模板".into());
    };
    let Some(phone) = out.phone.as_deref() else {
        return Outcome::Skipped("没有手机号".into());
    };
    match sent_today(db, out.message.recipient_id, crate::core::clock::now()).await {
        Ok(n) if n >= sms.daily_cap => return Outcome::Skipped("今日短信已达上限".into()),
        Ok(_) => {}
        Err(e) => return Outcome::Retry(e),
    }
    send(sms, phone, template, &out.message).await
}

async fn send(sms: &SmsConfig, phone: &str, template: &str, m: &notification::Model) -> Outcome {
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&m.fields).unwrap_or_default();
    let params: Vec<String> = fields
        .values()
        .filter_map(|v| v.as_str())
        .map(|v| v.chars().take(20).collect())
        .collect();
    let body = serde_json::json!({
        "PhoneNumberSet": [format!("+86{phone}")],
        "SmsSdkAppId": sms.sdk_app_id,
        "SignName": sms.sign_name,
        "TemplateId": template,
        "TemplateParamSet": params,
        "SessionContext": format!("n{}", m.id),
    })
    .to_string();
    let url = sms.endpoint.trim_end_matches('/').to_owned() + "/";
    let host = reqwest::Url::parse(&url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_default();
    let content_type = "application/json; charset=utf-8";
    let timestamp = Utc::now().timestamp();
    let authorization = tc3_authorization(
        &sms.secret_id,
        sms.secret_key.expose(),
        "sms",
        &host,
        content_type,
        &body,
        timestamp,
    );
    let answer = http()
        .post(url)
        .header("Content-Type", content_type)
        .header("Host", &host)
        .header("Authorization", authorization)
        .header("X-TC-Action", "SendSms")
        .header("X-TC-Version", "2021-01-11")
        .header("X-TC-Timestamp", timestamp.to_string())
        .header("X-TC-Region", &sms.region)
        .body(body)
        .send()
        .await;
    let answer: serde_json::Value = match answer {
        Ok(r) => match r.json().await {
            Ok(v) => v,
            Err(_) => return Outcome::Retry("短信服务的回答不是 JSON".into()),
        },
        Err(e) => return Outcome::Retry(format!("短信服务不可达：{}", e.without_url())),
    };
    let response = &answer["Response"];
    if let Some(code) = response["Error"]["Code"].as_str() {
        let message = response["Error"]["Message"].as_str().unwrap_or("");
        let why = format!("{code}: {}", message.chars().take(200).collect::<String>());
        // Throttles and the provider's own faults are worth another try.
        return if code.starts_with("RequestLimitExceeded") || code.starts_with("InternalError") {
            Outcome::Retry(why)
        } else {
            Outcome::Failed(why)
        };
    }
    let status = &response["SendStatusSet"][0];
    match status["Code"].as_str() {
        Some("Ok") => Outcome::Sent(status["SerialNo"].as_str().map(str::to_owned)),
        Some(code) => Outcome::Failed(format!(
            "{code}: {}",
            status["Message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        )),
        None => Outcome::Retry("短信服务的回答缺少发送结果".into()),
    }
}
