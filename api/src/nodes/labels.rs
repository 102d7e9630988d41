//! Display labels of the status enums (introspection cannot carry them): `enumLabels(type)`,
//! so that clients stop hard-coding 汉字 for every status.

use async_graphql::{Context, Object, SimpleObject};

use crate::core::error::{AppError, AppResult};

/// An enum value and its label.
#[derive(SimpleObject)]
pub struct EnumLabel {
    /// The value as the schema spells it (`PUBLISHED`).
    pub value: &'static str,
    /// Its label in Chinese (`已发布`).
    pub label: &'static str,
}

/// The labels, per enum of the schema.
const LABELS: &[(&str, &[(&str, &str)])] = &[
    (
        "WishStatus",
        &[
            ("PENDING_REVIEW", "待审核"),
            ("PUBLISHED", "已发布"),
            ("CLAIMED", "已认领"),
            ("FULFILLED", "已圆梦"),
            ("CONFIRMED", "已确认"),
            ("REJECTED", "未通过"),
            ("CANCELLED", "已取消"),
            ("EXPIRED", "已过期"),
        ],
    ),
    (
        "WishCategory",
        &[
            ("GOODS", "物品"),
            ("SERVICE", "服务"),
            ("COMPANIONSHIP", "陪伴"),
            ("OTHER", "其他"),
        ],
    ),
    (
        "AgreementStatus",
        &[
            ("DRAFT", "草稿"),
            ("PROPOSED", "待签署"),
            ("ACTIVE", "生效中"),
            ("EXPIRED", "已到期"),
            ("TERMINATED", "已终止"),
        ],
    ),
    (
        "RegistrationStatus",
        &[
            ("PENDING", "待审核"),
            ("APPROVED", "已报到"),
            ("REJECTED", "未通过"),
            ("WITHDRAWN", "已撤回"),
        ],
    ),
    (
        "SignupStatus",
        &[
            ("SIGNED_UP", "已报名"),
            ("CANCELLED", "已取消"),
            ("CHECKED_IN", "已签到"),
            ("COMPLETED", "已完成"),
            ("NO_SHOW", "缺勤"),
        ],
    ),
    (
        "IncidentStatus",
        &[
            ("REPORTED", "已上报"),
            ("RESOLVED_ON_SITE", "就地解决"),
            ("WHISTLED", "已吹哨"),
            ("DISPATCHED", "已派单"),
            ("ACCEPTED", "已接单"),
            ("HANDLED", "已办结"),
            ("CLOSED", "已关闭"),
            ("REOPENED", "已重启"),
        ],
    ),
    (
        "IncidentUrgency",
        &[("NORMAL", "一般"), ("URGENT", "紧急"), ("CRITICAL", "特急")],
    ),
];

/// The names of the enums that have labels.
pub fn labelled() -> impl Iterator<Item = (&'static str, &'static [(&'static str, &'static str)])> {
    LABELS.iter().copied()
}

#[derive(Default)]
pub struct LabelQuery;

#[Object]
impl LabelQuery {
    /// Display labels of an enum's values (`WishStatus`, `WishCategory`, `AgreementStatus`,
    /// `RegistrationStatus`, `SignupStatus`, `IncidentStatus`, `IncidentUrgency`), in the
    /// schema's order.
    async fn enum_labels(
        &self,
        _ctx: &Context<'_>,
        #[graphql(name = "type", desc = "The enum's name, e.g. `WishStatus`.")] type_name: String,
    ) -> AppResult<Vec<EnumLabel>> {
        let (_, values) = LABELS
            .iter()
            .find(|(name, _)| *name == type_name)
            .ok_or_else(|| AppError::bad_field("type", "该类型没有显示名称"))?;
        Ok(values
            .iter()
            .map(|(value, label)| EnumLabel { value, label })
            .collect())
    }
}
