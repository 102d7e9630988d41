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

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::alliance::AllianceScope")]
pub enum AllianceScope {
    Street,
    Community,
}

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
    Other,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::alliance::rules::AgreementStatus")]
pub enum AgreementStatus {
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

#[Object]
impl Alliance {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn scope(&self) -> AllianceScope {
        self.0.scope.into()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn street(&self, ctx: &Context<'_>) -> AppResult<Option<Street>> {
        match self.0.street_id {
            None => Ok(None),
            Some(s) => Ok(loader(ctx)?.load_one(StreetKey(s)).await?.map(Street)),
        }
    }
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
        #[graphql(default)] include_former: bool,
    ) -> AppResult<Vec<AllianceMember>> {
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
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// An organisation's membership of an alliance.
pub struct AllianceMember(pub alliance_member::Model);

#[Object]
impl AllianceMember {
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        org(ctx, self.0.organization_id).await
    }
    async fn joined_on(&self) -> Date {
        Date(self.0.joined_on)
    }
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

#[Object]
impl Agreement {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
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
    async fn start_date(&self) -> Date {
        Date(self.0.start_date)
    }
    async fn end_date(&self) -> Date {
        Date(self.0.end_date)
    }
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
    async fn proposed_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.proposed_by))
            .await?
            .map(User::new))
    }
    async fn proposed_at(&self) -> Option<Timestamp> {
        self.0.proposed_at.map(Timestamp)
    }
    /// When the last party signed.
    async fn signed_at(&self) -> Option<Timestamp> {
        self.0.signed_at.map(Timestamp)
    }
    async fn terminated_at(&self) -> Option<Timestamp> {
        self.0.terminated_at.map(Timestamp)
    }
    async fn termination_reason(&self) -> Option<&str> {
        self.0.termination_reason.as_deref()
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A party's signature.
pub struct AgreementSignature(pub entity::agreement_signature::Model);

#[Object]
impl AgreementSignature {
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
    async fn signed_at(&self) -> Timestamp {
        Timestamp(self.0.signed_at)
    }
}

/// An activity held under an agreement.
pub struct AgreementActivity(pub entity::agreement_activity::Model);

#[Object]
impl AgreementActivity {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn held_on(&self) -> Date {
        Date(self.0.held_on)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn participants(&self) -> i32 {
        self.0.participants
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn recorded_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.recorded_by))
            .await?
            .map(User::new))
    }
}

#[derive(SimpleObject)]
pub struct KindCount {
    pub kind: AgreementKind,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: AgreementStatus,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub count: u64,
}

/// Figures for dashboards.
#[derive(SimpleObject)]
pub struct AgreementStatistics {
    /// Agreements per kind (an agreement of two kinds counts for both).
    pub by_kind: Vec<KindCount>,
    pub by_status: Vec<StatusCount>,
    /// Alliances with current members.
    pub active_alliances: u64,
    /// Distinct units (not party organisations) currently in those alliances.
    pub member_units: u64,
    pub activities_per_month: Vec<MonthCount>,
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
        }
    }
}
