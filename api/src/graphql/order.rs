//! Response keys in the order of the selection, as the GraphQL spec's CollectFields gives
//! them: async-graphql resolves an object's fields concurrently and writes each as it
//! completes, so a field waiting on a loader (a user's roles) came last.

use async_graphql::{
    Value,
    parser::types::{ExecutableDocument, SelectionSet},
};

use super::guard::collect;

fn reorder_value(
    doc: &ExecutableDocument,
    sets: &[&SelectionSet],
    value: &mut Value,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match value {
        Value::List(items) => {
            for item in items {
                reorder_value(doc, sets, item, depth + 1);
            }
        }
        Value::Object(map) => {
            let mut keys = Vec::new();
            for set in sets {
                collect(doc, set, &mut keys, 0);
            }
            let in_order = keys
                .iter()
                .filter(|(k, _)| map.contains_key(k.as_str()))
                .map(|(k, _)| k.as_str())
                .eq(map.keys().map(|k| k.as_str()));
            if !in_order {
                let mut old = std::mem::take(map);
                for (key, _) in &keys {
                    if let Some((name, v)) = old.shift_remove_entry(key.as_str()) {
                        map.insert(name, v);
                    }
                }
                // Anything not selected by name (none in practice) keeps its place at the end.
                map.extend(old);
            }
            for (key, below) in &keys {
                if below.iter().all(|s| s.items.is_empty()) {
                    continue;
                }
                if let Some(v) = map.get_mut(key.as_str()) {
                    reorder_value(doc, below, v, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Puts every object's keys of `data` in the order of the operation's selection.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation_name: Option<&str>) {
    let Some(op) = super::guard::operation(doc, operation_name) else {
        return;
    };
    reorder_value(doc, &[&op.selection_set.node], data, 0);
}
