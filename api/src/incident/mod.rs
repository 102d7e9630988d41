//! Grid incidents (网格吹哨、部门报到): found and reported by a grid worker, resolved on site or
//! whistled to the street, dispatched to a street department or an alliance member unit,
//! accepted (报到) and handled by that unit, closed with the resident or reopened.

pub mod adoption;
pub mod events;
pub mod live;
pub mod loaders;
pub mod notices;
pub mod patrol;
pub mod patrol_schema;
pub mod policy;
pub mod rules;
pub mod schema;
pub mod summary;
pub mod summary_schema;
