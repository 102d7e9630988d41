//! Alliance and agreement objects.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use entity::{agreement, alliance, alliance_member};

use crate::alliance::loaders::ActivitiesOf;
use crate::alliance::loaders::ActivityCountOfAlliance;
use crate::alliance::loaders::AgreementsOfAlliance;
use crate::alliance::loaders::AllianceKey;
use crate::alliance::loaders::KindsOf;
use crate::alliance::loaders::MembersOf;
use crate::alliance::loaders::PartiesOf;
use crate::alliance::loaders::SignaturesOf;
use crate::alliance::rules as svc;
use crate::alliance::rules::AgreementStatus as S;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;
use crate::graphql::context::loader;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::OrganizationKey;
use crate::nodes::loaders::StreetKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::place::Organization;
use crate::nodes::place::Street;
use crate::nodes::user::User;

#[allow(unused_imports)]
use super::*;

/// Whether an alliance covers a whole street or one community.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::alliance::AllianceScope")]
pub enum AllianceScope {
    /// The whole street.
    Street,
    /// One community.
    Community,
}

/// What an agreement is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::agreement_kind::AgreementKind")]
pub enum AgreementKind {
    /// 活动合办
    JointActivities,
    /// 服务互助
    MutualService,
    /// 场所共用
    SharedVenues,
    /// 疫情联防
    JointEpidemicPrevention,
    /// Anything else.
    Other,
}

/// Where an agreement is in its life: draft, waiting for signatures, in force, ended or terminated.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::alliance::rules::AgreementStatus")]
pub enum AgreementStatus {
    /// Being written; only its proposer sees and edits it.
    Draft,
    /// Proposed; signatures pending (or all signed, term not begun).
    Proposed,
    /// Signed by every party and within its term.
    Active,
    /// Term over.
    Expired,
    /// Ended early by a party.
    Terminated,
}

pub(crate) async fn org(ctx: &Context<'_>, id: i64) -> AppResult<Organization> {
    loader(ctx)?
        .load_one(OrganizationKey(id))
        .await?
        .map(Organization)
        .ok_or_else(|| AppError::internal("missing organisation"))
}

/// 党建联盟.
pub struct Alliance(pub alliance::Model);

/// A party-building alliance (党建联盟) of organisations in a street or a community.
#[Object]
impl Alliance {
    /// The id of the alliance.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether it covers a street or a community.
    async fn scope(&self) -> AllianceScope {
        self.0.scope.into()
    }
    /// A free-text description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The street it covers (a street alliance).
    async fn street(&self, ctx: &Context<'_>) -> AppResult<Option<Street>> {
        match self.0.street_id {
            None => Ok(None),
            Some(s) => Ok(loader(ctx)?.load_one(StreetKey(s)).await?.map(Street)),
        }
    }
    /// The community it covers (a community alliance).
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }
    /// The lead organisation (牵头单位).
    async fn lead(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        org(ctx, self.0.lead_organization_id).await
    }
    /// Members; former members too when `includeFormer`.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Also organisations that have left."
        )]
        include_former: Option<bool>,
    ) -> AppResult<Vec<AllianceMember>> {
        // Nullable so that an omitted variable lets the default apply.
        let include_former = include_former.unwrap_or(false);
        let rows = loader(ctx)?
            .load_one(MembersOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|m| include_former || m.left_on.is_none())
            .map(AllianceMember)
            .collect())
    }
    /// Current members.
    async fn member_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        let rows = loader(ctx)?
            .load_one(MembersOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.iter().filter(|m| m.left_on.is_none()).count() as i64)
    }
    /// Agreements made in the alliance.
    async fn agreements(&self, ctx: &Context<'_>) -> AppResult<Vec<Agreement>> {
        let rows = loader(ctx)?
            .load_one(AgreementsOfAlliance(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Agreement).collect())
    }
    /// Activities held under the alliance's agreements.
    async fn activity_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        Ok(loader(ctx)?
            .load_one(ActivityCountOfAlliance(self.0.id))
            .await?
            .unwrap_or(0))
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// An organisation's membership of an alliance.
pub struct AllianceMember(pub alliance_member::Model);

/// An organisation's membership of an alliance.
#[Object]
impl AllianceMember {
    /// The organisation.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        org(ctx, self.0.organization_id).await
    }
    /// The day it joined.
    async fn joined_on(&self) -> Date {
        Date(self.0.joined_on)
    }
    /// The day it left; null while it is a member.
    async fn left_on(&self) -> Option<Date> {
        self.0.left_on.map(Date)
    }
    /// Not (yet) left.
    async fn current(&self) -> bool {
        self.0.left_on.is_none()
    }
}

/// 共建协议.
pub struct Agreement(pub agreement::Model);

/// A co-building agreement (共建协议) between organisations, proposed as a draft, submitted, signed by every party and then in force until its end date or termination.
#[Object]
impl Agreement {
    /// The id of the agreement.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it is about (one or more kinds).
    async fn kinds(&self, ctx: &Context<'_>) -> AppResult<Vec<AgreementKind>> {
        let rows = loader(ctx)?
            .load_one(KindsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(|k| k.kind.into()).collect())
    }
    /// The party organisations (two or more).
    async fn parties(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let rows = loader(ctx)?
            .load_one(PartiesOf(self.0.id))
            .await?
            .unwrap_or_default();
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            out.push(org(ctx, p.organization_id).await?);
        }
        Ok(out)
    }
    /// Deliverables promised.
    async fn commitments(&self) -> Vec<String> {
        serde_json::from_str(&self.0.commitments).unwrap_or_default()
    }
    /// The first day (inclusive).
    async fn start_date(&self) -> Date {
        Date(self.0.start_date)
    }
    /// The last day (inclusive).
    async fn end_date(&self) -> Date {
        Date(self.0.end_date)
    }
    /// The alliance it is made in, if any.
    async fn alliance(&self, ctx: &Context<'_>) -> AppResult<Option<Alliance>> {
        match self.0.alliance_id {
            None => Ok(None),
            Some(a) => Ok(loader(ctx)?.load_one(AllianceKey(a)).await?.map(Alliance)),
        }
    }
    /// As of today (Asia/Shanghai).
    async fn status(&self) -> AgreementStatus {
        svc::effective_status(&self.0, validate::today()).into()
    }
    /// Whether every party has signed.
    async fn all_signed(&self) -> bool {
        matches!(
            self.0.status,
            entity::agreement::StoredAgreementStatus::Signed
        ) || (self.0.status == entity::agreement::StoredAgreementStatus::Terminated
            && self.0.signed_at.is_some())
    }
    /// Every party, and when it signed.
    async fn signatures(&self, ctx: &Context<'_>) -> AppResult<Vec<AgreementSignature>> {
        let rows = loader(ctx)?
            .load_one(SignaturesOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(AgreementSignature).collect())
    }
    /// Parties that have not signed yet.
    async fn pending_parties(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let parties = loader(ctx)?
            .load_one(PartiesOf(self.0.id))
            .await?
            .unwrap_or_default();
        let signed = loader(ctx)?
            .load_one(SignaturesOf(self.0.id))
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for p in parties {
            if !signed
                .iter()
                .any(|s| s.organization_id == p.organization_id)
            {
                out.push(org(ctx, p.organization_id).await?);
            }
        }
        Ok(out)
    }
    /// Activities held under the agreement, oldest first.
    async fn activities(&self, ctx: &Context<'_>) -> AppResult<Vec<AgreementActivity>> {
        let rows = loader(ctx)?
            .load_one(ActivitiesOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(AgreementActivity).collect())
    }
    /// Who proposed the draft.
    async fn proposed_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.proposed_by))
            .await?
            .map(User::new))
    }
    /// When the draft was submitted for signatures.
    async fn proposed_at(&self) -> Option<Timestamp> {
        self.0.proposed_at.map(Timestamp)
    }
    /// When the last party signed.
    async fn signed_at(&self) -> Option<Timestamp> {
        self.0.signed_at.map(Timestamp)
    }
    /// When it was terminated early.
    async fn terminated_at(&self) -> Option<Timestamp> {
        self.0.terminated_at.map(Timestamp)
    }
    /// Why it was terminated early.
    async fn termination_reason(&self) -> Option<&str> {
        self.0.termination_reason.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A party's signature.
pub struct AgreementSignature(pub entity::agreement_signature::Model);

/// One party of an agreement, and when it signed.
#[Object]
impl AgreementSignature {
    /// The organisation.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        org(ctx, self.0.organization_id).await
    }
    /// The UNIT_REP who signed.
    async fn signer(&self, ctx: &Context<'_>) -> AppResult<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.signed_by))
            .await?
            .map(User::new)
            .ok_or_else(|| AppError::internal("signature without signer"))
    }
    /// When the party signed; null while it has not.
    async fn signed_at(&self) -> Timestamp {
        Timestamp(self.0.signed_at)
    }
}

/// An activity held under an agreement.
pub struct AgreementActivity(pub entity::agreement_activity::Model);

/// An activity held under an agreement (a joint event, a service day).
#[Object]
impl AgreementActivity {
    /// The id of the agreement activity.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The day it was held.
    async fn held_on(&self) -> Date {
        Date(self.0.held_on)
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// How many took part.
    async fn participants(&self) -> i32 {
        self.0.participants
    }
    /// Notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.recorded_by))
            .await?
            .map(User::new))
    }
    /// Whether it is an incident adopted as a project (民生实事; the incident itself is read through `incidents`, where its policy applies).
    async fn is_project(&self) -> bool {
        self.0.incident_id.is_some()
    }
}

/// Agreements of one kind.
#[derive(SimpleObject)]
pub struct KindCount {
    /// The kind.
    pub kind: AgreementKind,
    /// Agreements of it.
    pub count: u64,
}

/// Agreements in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: AgreementStatus,
    /// Agreements in it.
    pub count: u64,
}

/// Activities held in one month.
#[derive(SimpleObject)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// Activities held in the month.
    pub count: u64,
}

/// Figures for dashboards.
#[derive(SimpleObject)]
pub struct AgreementStatistics {
    /// Agreements per kind (an agreement of two kinds counts for both).
    pub by_kind: Vec<KindCount>,
    /// Agreements per status.
    pub by_status: Vec<StatusCount>,
    /// Alliances with current members.
    pub active_alliances: u64,
    /// Distinct units (not party organisations) currently in those alliances.
    pub member_units: u64,
    /// Activities held per month (projects included).
    pub activities_per_month: Vec<MonthCount>,
    /// Incidents adopted by a unit as a project of an agreement (民生实事).
    pub projects_adopted: u64,
}

impl From<svc::Statistics> for AgreementStatistics {
    fn from(s: svc::Statistics) -> Self {
        Self {
            by_kind: s
                .by_kind
                .into_iter()
                .map(|(kind, count)| KindCount {
                    kind: kind.into(),
                    count,
                })
                .collect(),
            by_status: S::ALL
                .iter()
                .map(|st| StatusCount {
                    status: (*st).into(),
                    count: s.by_status.get(st).copied().unwrap_or(0),
                })
                .collect(),
            active_alliances: s.active_alliances,
            member_units: s.member_units,
            activities_per_month: s
                .activities_per_month
                .into_iter()
                .map(|(month, count)| MonthCount { month, count })
                .collect(),
            projects_adopted: s.projects_adopted,
        }
    }
}
