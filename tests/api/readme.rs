//! Every example operation in README.md runs successfully against the demo data.
//!
//! An example is a ```graphql block preceded by `<!-- example: as=USER -->` (USER is a demo
//! account, or `anonymous`), optionally followed by a ```json block of variables.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};

struct Example {
    user: String,
    query: String,
    variables: Value,
}

fn examples() -> Vec<Example> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut out = Vec::new();
    let mut rest = readme.as_str();
    while let Some(pos) = rest.find("<!-- example: as=") {
        rest = &rest[pos + "<!-- example: as=".len()..];
        let user = rest.split_whitespace().next().expect("user").to_owned();
        let start = rest.find("```graphql\n").expect("graphql block") + "```graphql\n".len();
        let end = start + rest[start..].find("```").expect("block end");
        let query = rest[start..end].to_owned();
        rest = &rest[end + 3..];
        let mut variables = json!({});
        let trimmed = rest.trim_start();
        if let Some(body) = trimmed.strip_prefix("```json\n") {
            let close = body.find("```").expect("json end");
            variables = serde_json::from_str(&body[..close]).expect("variables JSON");
        }
        out.push(Example {
            user,
            query,
            variables,
        });
    }
    out
}

#[tokio::test]
async fn every_readme_example_runs_against_the_demo_data() {
    let all = examples();
    assert!(all.len() >= 5, "README has too few examples: {}", all.len());
    // Examples run in order on one demo database, as a front-end developer would try them.
    let app = TestApp::with_demo().await;
    for ex in all {
        let token = if ex.user == "anonymous" {
            None
        } else {
            Some(app.login(&ex.user).await)
        };
        let v = app
            .gql(token.as_deref(), &ex.query, ex.variables.clone())
            .await;
        let data = ok(&v);
        assert!(!data.is_null(), "example returned no data: {}", ex.query);
    }
}
