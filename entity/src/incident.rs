use sea_orm::entity::prelude::*;

/// Where an incident is in its handling (网格吹哨、部门报到).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum IncidentStatus {
    #[sea_orm(string_value = "REPORTED")]
    Reported,
    #[sea_orm(string_value = "RESOLVED_ON_SITE")]
    ResolvedOnSite,
    #[sea_orm(string_value = "WHISTLED")]
    Whistled,
    #[sea_orm(string_value = "DISPATCHED")]
    Dispatched,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "HANDLED")]
    Handled,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    #[sea_orm(string_value = "REOPENED")]
    Reopened,
}

/// Which of the five points (堵点、痛点、盲点、重点、疑点) an incident is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum IncidentCategory {
    #[sea_orm(string_value = "BLOCKAGE")]
    Blockage,
    #[sea_orm(string_value = "PAIN")]
    Pain,
    #[sea_orm(string_value = "BLIND_SPOT")]
    BlindSpot,
    #[sea_orm(string_value = "PRIORITY")]
    Priority,
    #[sea_orm(string_value = "HIDDEN_RISK")]
    HiddenRisk,
}

/// What an incident is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum IncidentSubject {
    #[sea_orm(string_value = "SAFETY")]
    Safety,
    #[sea_orm(string_value = "ENVIRONMENT")]
    Environment,
    #[sea_orm(string_value = "UTILITIES")]
    Utilities,
    #[sea_orm(string_value = "NEIGHBOUR_DISPUTE")]
    NeighbourDispute,
    #[sea_orm(string_value = "ELDERLY_CARE")]
    ElderlyCare,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How soon an incident must be handled; sets the default deadline of a dispatch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum IncidentUrgency {
    #[sea_orm(string_value = "NORMAL")]
    Normal,
    #[sea_orm(string_value = "URGENT")]
    Urgent,
    #[sea_orm(string_value = "CRITICAL")]
    Critical,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub community_id: i64,
    pub location: String,
    pub category: IncidentCategory,
    pub subject: IncidentSubject,
    pub description: String,
    pub urgency: IncidentUrgency,
    /// The grid worker who reported it.
    pub reported_by: i64,
    /// The resident who raised it through the grid worker, if any.
    pub raised_by: Option<i64>,
    pub status: IncidentStatus,
    /// The organisation it is dispatched to.
    pub organization_id: Option<i64>,
    /// By when it must be accepted and handled.
    pub deadline: Option<DateTimeUtc>,
    /// How it was resolved on site, or the unit's handling result.
    pub resolution: Option<String>,
    /// The resident's satisfaction at closing (1–5).
    pub rating: Option<i32>,
    /// When the OVERDUE event of the current dispatch was published.
    pub overdue_notified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Dispatched (or reopened, or accepted) and not handled by its deadline.
    pub fn overdue_at(&self, now: DateTimeUtc) -> bool {
        matches!(
            self.status,
            IncidentStatus::Dispatched | IncidentStatus::Reopened | IncidentStatus::Accepted
        ) && self.deadline.is_some_and(|d| d < now)
    }
}
