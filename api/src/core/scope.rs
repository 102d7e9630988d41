//! A read rule written once, as data: which rows of an entity a viewer may see.
//!
//! A domain's policy builds a [`Scope`] from the viewer (the columns and ids their roles
//! cover); the list filter ([`Scope::condition`]) and the single-row check
//! ([`Scope::admits`]) are both derived from that one value, so they cannot disagree.

use sea_orm::{ColumnTrait, Condition, EntityTrait, ModelTrait, Value};

/// Which rows of `E` a viewer may see.
#[derive(Clone, Debug)]
pub enum Scope<E: EntityTrait> {
    /// Every row (ADMIN).
    Everything,
    /// No row.
    Nothing,
    /// Rows whose column is one of the values.
    In(E::Column, Vec<Value>),
    /// Rows that match any of the parts.
    Any(Vec<Scope<E>>),
    /// Rows that match every part.
    All(Vec<Scope<E>>),
}

impl<E: EntityTrait> Scope<E> {
    /// Rows whose column equals `value`.
    pub fn is(column: E::Column, value: impl Into<Value>) -> Self {
        Self::In(column, vec![value.into()])
    }

    /// Rows whose column is one of `values` (nothing when there are none).
    pub fn one_of<V: Into<Value>>(column: E::Column, values: impl IntoIterator<Item = V>) -> Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            Self::Nothing
        } else {
            Self::In(column, values)
        }
    }

    /// The sea-orm filter for lists; `None` when every row is allowed.
    pub fn condition(&self) -> Option<Condition> {
        match self {
            Self::Everything => None,
            Self::Nothing => {
                use sea_orm::sea_query::ExprTrait;
                Some(Condition::all().add(sea_orm::sea_query::Expr::val(1).eq(0)))
            }
            Self::In(col, values) => Some(Condition::all().add(col.is_in(values.clone()))),
            Self::Any(parts) => {
                let mut cond = Condition::any();
                for p in parts {
                    match p.condition() {
                        None => return None,
                        Some(c) => cond = cond.add(c),
                    }
                }
                if parts.is_empty() {
                    return Self::Nothing.condition();
                }
                Some(cond)
            }
            Self::All(parts) => {
                let mut cond = Condition::all();
                for p in parts {
                    if let Some(c) = p.condition() {
                        cond = cond.add(c);
                    }
                }
                Some(cond)
            }
        }
    }

    /// Whether one row is allowed: the same rule as [`Scope::condition`], on a loaded row.
    pub fn admits(&self, row: &E::Model) -> bool
    where
        E::Model: ModelTrait<Entity = E>,
    {
        match self {
            Self::Everything => true,
            Self::Nothing => false,
            Self::In(col, values) => {
                let v = row.get(*col);
                values.iter().any(|x| same(x, &v))
            }
            Self::Any(parts) => parts.iter().any(|p| p.admits(row)),
            Self::All(parts) => parts.iter().all(|p| p.admits(row)),
        }
    }

    /// Applies the scope to a select.
    pub fn filter(&self, q: sea_orm::Select<E>) -> sea_orm::Select<E> {
        use sea_orm::QueryFilter;
        match self.condition() {
            None => q,
            Some(c) => q.filter(c),
        }
    }
}

/// Compares a rule value with a row value: integers of any width compare by value, a null
/// never matches.
fn same(rule: &Value, row: &Value) -> bool {
    match (int(rule), int(row)) {
        (Some(a), Some(b)) => a == b,
        _ => rule == row && !is_null(row),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::BigInt(Some(x)) => Some(*x),
        Value::Int(Some(x)) => Some(i64::from(*x)),
        Value::SmallInt(Some(x)) => Some(i64::from(*x)),
        _ => None,
    }
}

fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::BigInt(None) | Value::Int(None) | Value::String(None) | Value::SmallInt(None)
    )
}
