//! Inputs, payloads, and the query and mutation roots of alliances and agreements.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{agreement, agreement_kind, agreement_party, alliance, alliance_member};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::alliance::rules as svc;
use crate::core::db::get;
use crate::core::error::AppResult;
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::core::validate;
use crate::graphql::context::actor;
use crate::graphql::context::db;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::graphql::scalars::Date;

#[allow(unused_imports)]
use super::*;

/// A new alliance.
#[derive(InputObject)]
pub struct CreateAllianceInput {
    /// The name.
    pub name: String,
    /// The organisation that leads the alliance.
    pub lead_organization_id: ID,
    /// Whether it covers a street or a community.
    pub scope: AllianceScope,
    /// For STREET alliances (defaults to the only street).
    pub street_id: Option<ID>,
    /// For COMMUNITY alliances.
    pub community_id: Option<ID>,
    /// A free-text description.
    pub description: Option<String>,
}

/// The alliance after the change.
#[derive(SimpleObject)]
pub struct AlliancePayload {
    /// The alliance.
    pub alliance: Alliance,
}

/// An organisation to add to an alliance.
#[derive(InputObject)]
pub struct AddAllianceMemberInput {
    /// The alliance.
    pub alliance_id: ID,
    /// The organisation.
    pub organization_id: ID,
    /// Defaults to today.
    pub joined_on: Option<Date>,
}

/// An organisation that leaves an alliance.
#[derive(InputObject)]
pub struct LeaveAllianceInput {
    /// The alliance.
    pub alliance_id: ID,
    /// The organisation.
    pub organization_id: ID,
    /// Defaults to today.
    pub left_on: Option<Date>,
}

/// The membership after the change, and its alliance.
#[derive(SimpleObject)]
pub struct AllianceMemberPayload {
    /// The membership.
    pub member: AllianceMember,
    /// The alliance.
    pub alliance: Alliance,
}

/// The text of an agreement draft.
#[derive(InputObject)]
pub struct AgreementTextInput {
    /// The title.
    pub title: String,
    /// What it is about (one or more kinds).
    pub kinds: Vec<AgreementKind>,
    /// Two or more party organisations.
    pub party_ids: Vec<ID>,
    /// What each party commits to, one item per line.
    pub commitments: Vec<String>,
    /// The first day (inclusive).
    pub start_date: Date,
    /// The last day (inclusive).
    pub end_date: Date,
    /// The alliance.
    pub alliance_id: Option<ID>,
}

/// A new agreement draft.
#[derive(InputObject)]
pub struct ProposeAgreementInput {
    /// The title.
    pub title: String,
    /// What it is about (one or more kinds).
    pub kinds: Vec<AgreementKind>,
    /// Two or more party organisations.
    pub party_ids: Vec<ID>,
    /// What each party commits to, one item per line.
    pub commitments: Vec<String>,
    /// The first day (inclusive).
    pub start_date: Date,
    /// The last day (inclusive).
    pub end_date: Date,
    /// The alliance.
    pub alliance_id: Option<ID>,
    /// Save as DRAFT (editable) instead of proposing (text frozen). Default false.
    pub as_draft: Option<bool>,
}

/// New text for a draft.
#[derive(InputObject)]
pub struct UpdateAgreementDraftInput {
    /// The agreement.
    pub agreement_id: ID,
    /// The new text.
    pub text: AgreementTextInput,
}

/// The draft to submit for signatures.
#[derive(InputObject)]
pub struct SubmitAgreementDraftInput {
    /// The agreement.
    pub agreement_id: ID,
}

/// The agreement that the caller's organisation signs.
#[derive(InputObject)]
pub struct SignAgreementInput {
    /// The agreement.
    pub agreement_id: ID,
    /// The organisation signing; needed only for a rep of several parties.
    pub organization_id: Option<ID>,
}

/// An agreement to end early, and why.
#[derive(InputObject)]
pub struct TerminateAgreementInput {
    /// The agreement.
    pub agreement_id: ID,
    /// Why (kept with the agreement).
    pub reason: String,
}

/// An activity held under an agreement.
#[derive(InputObject)]
pub struct RecordAgreementActivityInput {
    /// The agreement.
    pub agreement_id: ID,
    /// The day it was held.
    pub held_on: Date,
    /// The title.
    pub title: String,
    /// How many took part.
    #[graphql(default)]
    pub participants: i32,
    /// Notes.
    pub notes: Option<String>,
}

/// The agreement after the change.
#[derive(SimpleObject)]
pub struct AgreementPayload {
    /// The agreement.
    pub agreement: Agreement,
}

/// The recorded activity and its agreement.
#[derive(SimpleObject)]
pub struct AgreementActivityPayload {
    /// The recorded activity.
    pub activity: AgreementActivity,
    /// The agreement.
    pub agreement: Agreement,
}

pub(crate) fn text(
    title: String,
    kinds: Vec<AgreementKind>,
    party_ids: &[ID],
    commitments: Vec<String>,
    start_date: Date,
    end_date: Date,
    alliance_id: Option<&ID>,
) -> AppResult<svc::AgreementText> {
    let mut ids = Vec::with_capacity(party_ids.len());
    for p in party_ids {
        ids.push(parse_id("partyIds", p)?);
    }
    Ok(svc::AgreementText {
        title,
        kinds: kinds.into_iter().map(Into::into).collect(),
        party_ids: ids,
        commitments,
        start_date: start_date.0,
        end_date: end_date.0,
        alliance_id: parse_opt_id("allianceId", alliance_id)?,
    })
}

#[derive(Default)]
pub struct AllianceQuery;

#[Object]
impl AllianceQuery {
    /// Alliances, filtered by street, community or member organisation.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn alliances(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this street.")] street_id: Option<ID>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only alliances this organisation is a current member of.")]
        member_organization_id: Option<ID>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Alliance>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = alliance::Entity::find();
        if let Some(s) = parse_opt_id("streetId", street_id.as_ref())? {
            q = q.filter(alliance::Column::StreetId.eq(s));
        }
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(alliance::Column::CommunityId.eq(c));
        }
        if let Some(o) = parse_opt_id("memberOrganizationId", member_organization_id.as_ref())? {
            q = q.filter(
                alliance::Column::Id.in_subquery(
                    Query::select()
                        .column(alliance_member::Column::AllianceId)
                        .from(alliance_member::Entity)
                        .and_where(Expr::col(alliance_member::Column::OrganizationId).eq(o))
                        .to_owned(),
                ),
            );
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            alliance::Column::Id,
            false,
            page,
            |m| m.id,
            Alliance,
        )
        .await?)
    }

    /// An alliance by id.
    async fn alliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the alliance.")] id: ID,
    ) -> AppResult<Alliance> {
        let id = parse_id("id", &id)?;
        Ok(Alliance(
            get::<alliance::Entity, _>(db(ctx)?, id, "联盟不存在").await?,
        ))
    }

    /// Agreements, newest first, filtered by party organisation, kind, status (as of today), alliance, or in force on a date.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only agreements this organisation is a party of.")]
        organization_id: Option<ID>,
        #[graphql(desc = "Only items of this kind.")] kind: Option<AgreementKind>,
        #[graphql(desc = "Only items in this status.")] status: Option<AgreementStatus>,
        #[graphql(desc = "Only agreements of this alliance.")] alliance_id: Option<ID>,
        #[graphql(desc = "Only agreements in force on this day.")] active_on: Option<Date>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Agreement>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = agreement::Entity::find();
        if let Some(o) = parse_opt_id("organizationId", organization_id.as_ref())? {
            q = q.filter(
                agreement::Column::Id.in_subquery(
                    Query::select()
                        .column(agreement_party::Column::AgreementId)
                        .from(agreement_party::Entity)
                        .and_where(Expr::col(agreement_party::Column::OrganizationId).eq(o))
                        .to_owned(),
                ),
            );
        }
        if let Some(k) = kind {
            let k: entity::agreement_kind::AgreementKind = k.into();
            q = q.filter(
                agreement::Column::Id.in_subquery(
                    Query::select()
                        .column(agreement_kind::Column::AgreementId)
                        .from(agreement_kind::Entity)
                        .and_where(Expr::col(agreement_kind::Column::Kind).eq(k))
                        .to_owned(),
                ),
            );
        }
        if let Some(s) = status {
            q = q.filter(svc::status_condition(s.into(), validate::today()));
        }
        if let Some(a) = parse_opt_id("allianceId", alliance_id.as_ref())? {
            q = q.filter(agreement::Column::AllianceId.eq(a));
        }
        if let Some(d) = active_on {
            q = q.filter(Condition::all().add(svc::active_on(d.0)));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            agreement::Column::Id,
            true,
            page,
            |m| m.id,
            Agreement,
        )
        .await?)
    }

    /// An agreement by id (a draft only for its proposer).
    async fn agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the agreement.")] id: ID,
    ) -> AppResult<Agreement> {
        let id = parse_id("id", &id)?;
        Ok(Agreement(
            get::<agreement::Entity, _>(db(ctx)?, id, "协议不存在").await?,
        ))
    }

    /// Dashboard figures within a street or a community (all when neither is given).
    async fn agreement_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this street.")] street_id: Option<ID>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
    ) -> AppResult<AgreementStatistics> {
        let s = svc::statistics(
            db(ctx)?,
            parse_opt_id("streetId", street_id.as_ref())?,
            parse_opt_id("communityId", community_id.as_ref())?,
        )
        .await?;
        Ok(s.into())
    }
}

#[derive(Default)]
pub struct AllianceMutation;

#[Object]
impl AllianceMutation {
    /// ADMIN, or staff for a community alliance of their community.
    async fn create_alliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CreateAllianceInput,
    ) -> AppResult<AlliancePayload> {
        let me = actor(ctx)?;
        let a = svc::create_alliance(
            db(ctx)?,
            me,
            svc::NewAlliance {
                name: input.name,
                lead_organization_id: parse_id("leadOrganizationId", &input.lead_organization_id)?,
                scope: input.scope.into(),
                street_id: parse_opt_id("streetId", input.street_id.as_ref())?,
                community_id: parse_opt_id("communityId", input.community_id.as_ref())?,
                description: input.description,
            },
        )
        .await?;
        Ok(AlliancePayload {
            alliance: Alliance(a),
        })
    }

    /// The lead organisation's UNIT_REP or ADMIN adds a member; an organisation joins once.
    async fn add_alliance_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AddAllianceMemberInput,
    ) -> AppResult<AllianceMemberPayload> {
        let me = actor(ctx)?;
        let alliance_id = parse_id("allianceId", &input.alliance_id)?;
        let m = svc::add_member(
            db(ctx)?,
            me,
            alliance_id,
            parse_id("organizationId", &input.organization_id)?,
            input.joined_on.map(|d| d.0),
        )
        .await?;
        let a = get::<alliance::Entity, _>(db(ctx)?, alliance_id, "联盟不存在").await?;
        Ok(AllianceMemberPayload {
            member: AllianceMember(m),
            alliance: Alliance(a),
        })
    }

    /// A member leaves; its membership stays in the history with the date.
    async fn leave_alliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: LeaveAllianceInput,
    ) -> AppResult<AllianceMemberPayload> {
        let me = actor(ctx)?;
        let alliance_id = parse_id("allianceId", &input.alliance_id)?;
        let m = svc::leave(
            db(ctx)?,
            me,
            alliance_id,
            parse_id("organizationId", &input.organization_id)?,
            input.left_on.map(|d| d.0),
        )
        .await?;
        let a = get::<alliance::Entity, _>(db(ctx)?, alliance_id, "联盟不存在").await?;
        Ok(AllianceMemberPayload {
            member: AllianceMember(m),
            alliance: Alliance(a),
        })
    }

    /// A party's UNIT_REP (or staff of a party's community, or ADMIN) proposes an agreement; its text is frozen from then on.
    async fn propose_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ProposeAgreementInput,
    ) -> AppResult<AgreementPayload> {
        let me = actor(ctx)?;
        let t = text(
            input.title,
            input.kinds,
            &input.party_ids,
            input.commitments,
            input.start_date,
            input.end_date,
            input.alliance_id.as_ref(),
        )?;
        let a = svc::propose(
            db(ctx)?,
            crate::graphql::context::events(ctx)?,
            me,
            t,
            input.as_draft.unwrap_or(false),
        )
        .await?;
        Ok(AgreementPayload {
            agreement: Agreement(a),
        })
    }

    /// Changes a DRAFT's text (a proposed agreement's text cannot change: INVALID_STATE).
    async fn update_agreement_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: UpdateAgreementDraftInput,
    ) -> AppResult<AgreementPayload> {
        let me = actor(ctx)?;
        let id = parse_id("agreementId", &input.agreement_id)?;
        let t = input.text;
        let t = text(
            t.title,
            t.kinds,
            &t.party_ids,
            t.commitments,
            t.start_date,
            t.end_date,
            t.alliance_id.as_ref(),
        )?;
        let a = svc::update_draft(db(ctx)?, me, id, t).await?;
        Ok(AgreementPayload {
            agreement: Agreement(a),
        })
    }

    /// Proposes a DRAFT: its text is frozen from then on.
    async fn submit_agreement_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SubmitAgreementDraftInput,
    ) -> AppResult<AgreementPayload> {
        let me = actor(ctx)?;
        let id = parse_id("agreementId", &input.agreement_id)?;
        let a = svc::submit_draft(db(ctx)?, me, id).await?;
        Ok(AgreementPayload {
            agreement: Agreement(a),
        })
    }

    /// A UNIT_REP signs for their own organisation, once; the last signature activates it.
    async fn sign_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SignAgreementInput,
    ) -> AppResult<AgreementPayload> {
        let me = actor(ctx)?;
        let id = parse_id("agreementId", &input.agreement_id)?;
        let org = parse_opt_id("organizationId", input.organization_id.as_ref())?;
        let a = svc::sign(db(ctx)?, me, id, org).await?;
        Ok(AgreementPayload {
            agreement: Agreement(a),
        })
    }

    /// A party's rep or ADMIN ends the agreement early, with a reason.
    async fn terminate_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: TerminateAgreementInput,
    ) -> AppResult<AgreementPayload> {
        let me = actor(ctx)?;
        let id = parse_id("agreementId", &input.agreement_id)?;
        let a = svc::terminate(db(ctx)?, me, id, &input.reason).await?;
        Ok(AgreementPayload {
            agreement: Agreement(a),
        })
    }

    /// Records an activity held under an agreement in force that day.
    async fn record_agreement_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RecordAgreementActivityInput,
    ) -> AppResult<AgreementActivityPayload> {
        let me = actor(ctx)?;
        let id = parse_id("agreementId", &input.agreement_id)?;
        let act = svc::record_activity(
            db(ctx)?,
            me,
            id,
            svc::NewActivity {
                held_on: input.held_on.0,
                title: input.title,
                participants: input.participants,
                notes: input.notes,
            },
        )
        .await?;
        let a = get::<agreement::Entity, _>(db(ctx)?, id, "协议不存在").await?;
        Ok(AgreementActivityPayload {
            activity: AgreementActivity(act),
            agreement: Agreement(a),
        })
    }
}
