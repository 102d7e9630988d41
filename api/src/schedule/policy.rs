//! Who may see a student on a shift, and whose hours certificate.

use entity::{role_assignment::Role, service_slot};

use crate::auth::AuthUser;

/// Whether the viewer may see who a sign-up's student is (name and account): the student,
/// staff of the slot's community, grid workers of the slot's grid (or its parent grid), and
/// for a slot of the whole community its grid workers.
pub fn sees_student(
    viewer: Option<&AuthUser>,
    slot: &service_slot::Model,
    student_id: i64,
) -> bool {
    viewer.is_some_and(|v| v.id() == student_id || sees_every_student(v, slot))
}

/// The answer of [`sees_student`] when it needs nothing of the slot (the student themself),
/// so that callers can skip loading it.
pub fn sees_student_settled(viewer: Option<&AuthUser>, student_id: i64) -> Option<bool> {
    viewer.filter(|v| v.id() == student_id).map(|_| true)
}

/// Whether the viewer sees every student signed up for shifts of the slot.
pub fn sees_every_student(v: &AuthUser, slot: &service_slot::Model) -> bool {
    v.is_staff_of(slot.community_id)
        || match slot.grid_id {
            Some(g) => v.worker_of_grid(g),
            None => v.is_worker_in(slot.community_id),
        }
}

/// What part of a student's hours certificate the viewer may read.
#[derive(Debug, PartialEq, Eq)]
pub enum CertificateView {
    /// Every community: the student, ADMIN, or a rep of the student's organisation.
    Whole,
    /// Only the lines of these communities: staff see the service done in their communities.
    Communities(Vec<i64>),
    Forbidden,
}

/// The certificate rule, from the viewer and the student's roles.
pub fn certificate(
    viewer: &AuthUser,
    student_id: i64,
    student_roles: &[entity::role_assignment::Model],
) -> CertificateView {
    let rep = student_roles
        .iter()
        .filter(|r| r.role == Role::Student)
        .filter_map(|r| r.organization_id)
        .any(|o| viewer.is_rep_of(o));
    if viewer.id() == student_id || viewer.is_admin() || rep {
        return CertificateView::Whole;
    }
    let staff = viewer.staff_communities();
    if staff.is_empty() {
        CertificateView::Forbidden
    } else {
        CertificateView::Communities(staff)
    }
}
