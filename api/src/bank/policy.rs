//! Who may read passbooks, their ledger and good deeds.

use entity::{good_deed, passbook};
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::{
    auth::AuthUser,
    core::{mask::Access, scope::Scope},
};

/// Passbooks (with their ledger entries and redemptions) a viewer may read: their own, every
/// passbook of their communities for staff, all for ADMIN.
pub fn passbooks(viewer: &AuthUser) -> Scope<passbook::Entity> {
    if viewer.is_admin() {
        return Scope::Everything;
    }
    Scope::Any(vec![
        Scope::is(passbook::Column::HolderId, viewer.id()),
        Scope::one_of(passbook::Column::CommunityId, viewer.staff_communities()),
    ])
}

/// Whether the viewer may read one passbook: [`passbooks`] on one row.
pub fn may_read(viewer: &AuthUser, book: &passbook::Model) -> bool {
    passbooks(viewer).admits(book)
}

/// Good deeds a viewer may list: those they reported, and those on a passbook they may read.
pub fn good_deeds(viewer: &AuthUser) -> Option<Condition> {
    let books = passbooks(viewer).condition()?;
    let readable = Query::select()
        .column(passbook::Column::Id)
        .from(passbook::Entity)
        .cond_where(books)
        .to_owned();
    Some(
        Condition::any()
            .add(good_deed::Column::ReportedBy.eq(viewer.id()))
            .add(Expr::col(good_deed::Column::PassbookId).in_subquery(readable)),
    )
}

/// A passbook's holder is shown whole to whoever may read the passbook ([`passbooks`]).
pub const HOLDER_OF_READABLE_PASSBOOK: Access = Access::Full;

/// A ranking of a community shows its holders whole to staff of that community (who may read
/// their passbooks); everyone else sees them as the account policy shows the person.
pub fn ranking_holder(viewer: Option<&AuthUser>, community_id: i64) -> Access {
    if viewer.is_some_and(|v| v.is_staff_of(community_id)) {
        Access::Full
    } else {
        Access::Masked
    }
}
