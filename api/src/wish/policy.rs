//! Who may see a wish and how much of its beneficiary.
//!
//! One read rule ([`scope`]) gives both the wish wall's filter and the check of a single
//! wish (root field, payloads, subscription events); one rule ([`insight`]) gives the level
//! of the beneficiary's personal data on every field that shows it.

use entity::{wish, wish::WishStatus};

use crate::{
    auth::AuthUser,
    core::{mask::Access, scope::Scope},
};

/// Statuses anybody may see (the public wish wall).
pub const PUBLIC: [WishStatus; 4] = [
    WishStatus::Published,
    WishStatus::Claimed,
    WishStatus::Fulfilled,
    WishStatus::Confirmed,
];

/// Wishes a viewer may see: published and later ones for everybody; every wish of their
/// communities for staff, of their grids (and the micro-grids inside them) for grid
/// workers; their own as submitter, beneficiary or claimant; everything for ADMIN.
pub fn scope(viewer: Option<&AuthUser>) -> Scope<wish::Entity> {
    let public = Scope::one_of(wish::Column::Status, PUBLIC);
    let Some(v) = viewer else {
        return public;
    };
    if v.is_admin() {
        return Scope::Everything;
    }
    Scope::Any(vec![
        public,
        Scope::is(wish::Column::SubmittedBy, v.id()),
        Scope::is(wish::Column::BeneficiaryUserId, v.id()),
        Scope::is(wish::Column::ClaimantId, v.id()),
        Scope::one_of(wish::Column::CommunityId, v.staff_communities()),
        Scope::one_of(wish::Column::GridId, v.worker_grids.clone()),
    ])
}

/// The level of a wish's own record of its beneficiary, for the people who run the wish:
/// staff of the community, grid workers of the grid (or its parent grid), the submitter and
/// the beneficiary see everything; the current claimant (圆梦人) the full name; others masked.
pub fn record_access(viewer: Option<&AuthUser>, w: &wish::Model) -> Access {
    let Some(v) = viewer else {
        return Access::Masked;
    };
    if v.is_staff_of(w.community_id)
        || v.worker_of_grid(w.grid_id)
        || w.beneficiary_user_id == Some(v.id())
        || w.submitted_by == v.id()
    {
        Access::Full
    } else if w.claimant_id == Some(v.id()) {
        Access::NameOnly
    } else {
        Access::Masked
    }
}

/// The level at which the beneficiary's name, phone and address are shown. When the
/// beneficiary has an account, those values are copies of their profile: they are never
/// shown more widely than the account policy shows the person (`person`, the viewer's
/// access to that account); values a grid worker entered for someone without an account
/// follow [`record_access`] alone.
///
/// The current claimant (圆梦人) sees the beneficiary's full name whatever the account policy
/// says: the claim is a promise to meet that person (DOMAIN: the claimant sees the name; the
/// grid's 连心卡 with whole phones is theirs too while the claim is active, see
/// [`holds_active_claim_in_grid`]).
pub fn insight(viewer: Option<&AuthUser>, w: &wish::Model, person: Option<Access>) -> Access {
    let record = record_access(viewer, w);
    match (w.beneficiary_user_id, person) {
        (Some(_), _) if record == Access::NameOnly => Access::NameOnly,
        (Some(_), Some(p)) => record.min(p),
        (Some(_), None) => Access::Masked,
        (None, _) => record,
    }
}

/// Whether the viewer holds an active claim on a wish of this grid: such a claimant may
/// reach the grid's staff (the 连心卡 with whole phones) to arrange the visit.
pub async fn holds_active_claim_in_grid(
    db: &sea_orm::DatabaseConnection,
    viewer: &AuthUser,
    grid_id: i64,
) -> crate::core::error::AppResult<bool> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let n = wish::Entity::find()
        .filter(wish::Column::GridId.eq(grid_id))
        .filter(wish::Column::ClaimantId.eq(viewer.id()))
        .filter(wish::Column::Status.eq(wish::WishStatus::Claimed))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Whether the beneficiary's account must be consulted: only when the record would show
/// more than a masked name.
pub fn needs_person(viewer: Option<&AuthUser>, w: &wish::Model) -> bool {
    w.beneficiary_user_id.is_some()
        && !matches!(record_access(viewer, w), Access::Masked | Access::NameOnly)
}

/// Who may cancel: the submitter, the beneficiary and staff of the community.
pub fn may_cancel(actor: &AuthUser, w: &wish::Model) -> bool {
    w.submitted_by == actor.id()
        || w.beneficiary_user_id == Some(actor.id())
        || actor.is_staff_of(w.community_id)
}
