//! Display labels of the schema's enums (introspection cannot carry them): `enumLabels(type)`,
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
    (
        "AgreementKind",
        &[
            ("JOINT_ACTIVITIES", "联合活动"),
            ("MUTUAL_SERVICE", "互助服务"),
            ("SHARED_VENUES", "阵地共享"),
            ("JOINT_EPIDEMIC_PREVENTION", "联防联控"),
            ("OTHER", "其他"),
        ],
    ),
    (
        "AllianceScope",
        &[("STREET", "街道"), ("COMMUNITY", "社区")],
    ),
    (
        "ClaimStatus",
        &[
            ("ACTIVE", "认领中"),
            ("RELEASED", "已放弃"),
            ("COMPLETED", "已完成"),
            ("CANCELLED", "已取消"),
        ],
    ),
    (
        "EntryKind",
        &[
            ("EARN", "获得"),
            ("REDEEM", "兑换"),
            ("REVERSAL", "冲正"),
            ("ADJUSTMENT", "调整"),
        ],
    ),
    (
        "EntrySource",
        &[
            ("WISH", "微心愿"),
            ("SHIFT", "志愿服务"),
            ("GOOD_DEED", "好人好事"),
            ("REDEMPTION", "积分兑换"),
            ("MANUAL", "人工录入"),
        ],
    ),
    (
        "GoodDeedDecision",
        &[("APPROVE", "通过"), ("REJECT", "不通过")],
    ),
    (
        "GoodDeedStatus",
        &[
            ("PENDING", "待审核"),
            ("APPROVED", "已通过"),
            ("REJECTED", "未通过"),
        ],
    ),
    (
        "GridKind",
        &[
            ("COMPREHENSIVE", "综合网格"),
            ("DEDICATED", "专属网格"),
            ("MICRO", "微网格"),
        ],
    ),
    (
        "IncidentCategory",
        &[
            ("BLOCKAGE", "堵点"),
            ("PAIN", "痛点"),
            ("BLIND_SPOT", "盲点"),
            ("PRIORITY", "重点"),
            ("HIDDEN_RISK", "疑点"),
        ],
    ),
    (
        "IncidentEventKind",
        &[
            ("REPORTED", "已上报"),
            ("RESOLVED_ON_SITE", "就地解决"),
            ("WHISTLED", "已吹哨"),
            ("DISPATCHED", "已派单"),
            ("ACCEPTED", "已接单"),
            ("HANDLED", "已办结"),
            ("CLOSED", "已关闭"),
            ("REOPENED", "已重启"),
            ("OVERDUE", "已超期"),
        ],
    ),
    (
        "IncidentOrder",
        &[("NEWEST", "最新"), ("DEADLINE", "期限最近")],
    ),
    (
        "IncidentSubject",
        &[
            ("SAFETY", "安全隐患"),
            ("ENVIRONMENT", "环境卫生"),
            ("UTILITIES", "水电气暖"),
            ("NEIGHBOUR_DISPUTE", "邻里纠纷"),
            ("ELDERLY_CARE", "为老服务"),
            ("OTHER", "其他"),
        ],
    ),
    (
        "NotTakenReason",
        &[
            ("FULL", "名额已满"),
            ("OVERLAP", "时间冲突"),
            ("CLOSED", "已截止"),
            ("ALREADY_SIGNED_UP", "已报名"),
        ],
    ),
    (
        "NotificationKind",
        &[
            ("WISH_CLAIMED", "心愿被认领"),
            ("WISH_FULFILLED", "心愿待确认"),
            ("WISH_CONFIRMED", "圆梦已确认"),
            ("WISH_EXPIRED", "心愿已过期"),
            ("REGISTRATION_REVIEWED", "报到审核结果"),
            ("GOOD_DEED_REVIEWED", "好人好事审核结果"),
            ("REWARD_REDEEMED", "积分兑换"),
            ("SHIFT_REMINDER", "服务提醒"),
            ("SIGNUP_CANCELLED", "报名被取消"),
            ("SHIFT_CHANGED", "班次时间变更"),
            ("INCIDENT_DISPATCHED", "新派单"),
            ("INCIDENT_DEADLINE_NEAR", "派单即将到期"),
            ("INCIDENT_OVERDUE", "派单已超期"),
            ("INCIDENT_HANDLED", "事件已办结"),
            ("INCIDENT_REOPENED", "事件被退回"),
            ("AGREEMENT_TO_SIGN", "协议待签署"),
            ("AGREEMENT_EXPIRING", "协议即将到期"),
            ("ROLE_GRANTED", "角色授予"),
            ("ROLE_REVOKED", "角色撤销"),
            ("PASSWORD_RESET", "密码重置"),
        ],
    ),
    (
        "NotificationChannel",
        &[("WECHAT", "微信"), ("SMS", "短信"), ("EMAIL", "邮件")],
    ),
    (
        "OrganizationKind",
        &[
            ("PARTY_COMMITTEE", "党委"),
            ("PARTY_WORKING_COMMITTEE", "党工委"),
            ("GENERAL_BRANCH", "党总支"),
            ("BRANCH", "党支部"),
            ("GROUP", "党小组"),
            ("ENTERPRISE", "企业"),
            ("PUBLIC_INSTITUTION", "事业单位"),
            ("SCHOOL", "学校"),
            ("HOSPITAL", "医院"),
            ("SOCIAL_ORGANIZATION", "社会组织"),
            ("GOVERNMENT_DEPARTMENT", "机关部门"),
        ],
    ),
    (
        "PassbookStatus",
        &[("ACTIVE", "正常"), ("FROZEN", "已冻结")],
    ),
    ("PersonalField", &[("PHONE", "电话"), ("ADDRESS", "住址")]),
    (
        "ReviewDecision",
        &[("APPROVE", "通过"), ("REJECT", "不通过")],
    ),
    (
        "Role",
        &[
            ("ADMIN", "街道管理员"),
            ("COMMUNITY_STAFF", "社区工作人员"),
            ("GRID_WORKER", "网格员"),
            ("PARTY_MEMBER", "党员"),
            ("UNIT_REP", "共建单位联络人"),
            ("STUDENT", "学生志愿者"),
            ("RESIDENT", "居民"),
        ],
    ),
    (
        "ShiftEventKind",
        &[
            ("SIGNED_UP", "已报名"),
            ("CANCELLED", "已取消"),
            ("CHECKED_IN", "已签到"),
        ],
    ),
    (
        "ShiftOrder",
        &[("START", "开始时间"), ("CREATED", "创建顺序")],
    ),
    (
        "StaffRole",
        &[
            ("LEADER", "网格长"),
            ("WORKER", "网格员"),
            ("AUXILIARY", "辅助网格员"),
        ],
    ),
    (
        "Weekday",
        &[
            ("MONDAY", "星期一"),
            ("TUESDAY", "星期二"),
            ("WEDNESDAY", "星期三"),
            ("THURSDAY", "星期四"),
            ("FRIDAY", "星期五"),
            ("SATURDAY", "星期六"),
            ("SUNDAY", "星期日"),
        ],
    ),
    (
        "WishDecision",
        &[
            ("APPROVE", "通过"),
            ("REJECT", "不通过"),
            ("PUBLISH", "发布"),
        ],
    ),
    (
        "WishEventKind",
        &[
            ("PUBLISHED", "已发布"),
            ("CLAIMED", "已认领"),
            ("RELEASED", "已放弃认领"),
            ("FULFILLED", "已圆梦"),
            ("CONFIRMED", "已确认"),
            ("CANCELLED", "已取消"),
        ],
    ),
    (
        "WishOrder",
        &[
            ("NEWEST", "最新"),
            ("OLDEST", "最早"),
            ("DEADLINE", "期限最近"),
        ],
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
    /// Display labels (Chinese) of an enum's values, in the schema's order: every enum of the schema but `ErrorReason` (an error's `message` is its text).
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
