//! The GraphiQL page at `GET /graphql` (development only).
//!
//! The page loads React, ReactDOM and GraphiQL either from a pinned CDN (the default) or, for
//! intranets without internet access, from a local copy installed with npm
//! (`npm ci --prefix api/graphiql`, then `LIANXIN_GRAPHIQL_ASSETS=api/graphiql/node_modules`).
//! Local files are read once at start and served from memory under `/graphiql/`.

use std::{collections::HashMap, path::Path, sync::Arc};

use axum::{
    body::Bytes,
    extract::Path as UrlPath,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Versions pinned for the CDN; `api/graphiql/package.json` pins the same ones.
const GRAPHIQL_VERSION: &str = "3.8.3";
const REACT_VERSION: &str = "18.3.1";

/// The files the page needs: (name under `/graphiql/`, path under the assets folder, CDN URL).
const FILES: [(&str, &str, &str); 4] = [
    (
        "react.production.min.js",
        "react/umd/react.production.min.js",
        "https://unpkg.com/react@{react}/umd/react.production.min.js",
    ),
    (
        "react-dom.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
        "https://unpkg.com/react-dom@{react}/umd/react-dom.production.min.js",
    ),
    (
        "graphiql.min.js",
        "graphiql/graphiql.min.js",
        "https://unpkg.com/graphiql@{graphiql}/graphiql.min.js",
    ),
    (
        "graphiql.min.css",
        "graphiql/graphiql.min.css",
        "https://unpkg.com/graphiql@{graphiql}/graphiql.min.css",
    ),
];

/// The page and, when served locally, its files.
#[derive(Clone)]
pub struct GraphiqlPage {
    html: Arc<str>,
    files: Arc<HashMap<&'static str, Bytes>>,
}

impl GraphiqlPage {
    /// A page that loads its scripts from the CDN.
    pub fn cdn() -> Self {
        let urls: Vec<String> = FILES
            .iter()
            .map(|(_, _, url)| {
                url.replace("{react}", REACT_VERSION)
                    .replace("{graphiql}", GRAPHIQL_VERSION)
            })
            .collect();
        Self {
            html: render(&urls).into(),
            files: Arc::new(HashMap::new()),
        }
    }

    /// A page whose scripts are served by this server, read from an npm `node_modules` folder.
    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        let mut files = HashMap::new();
        let mut urls = Vec::new();
        for (name, rel, _) in FILES {
            let path = dir.join(rel);
            let bytes = std::fs::read(&path).map_err(|e| {
                anyhow::anyhow!(
                    "LIANXIN_GRAPHIQL_ASSETS: cannot read {} ({e}); run `npm ci --prefix api/graphiql`",
                    path.display()
                )
            })?;
            files.insert(name, Bytes::from(bytes));
            urls.push(format!("/graphiql/{name}"));
        }
        Ok(Self {
            html: render(&urls).into(),
            files: Arc::new(files),
        })
    }

    pub fn page(&self) -> Html<String> {
        Html(self.html.to_string())
    }

    /// One of the local files, or 404.
    pub fn file(&self, UrlPath(name): UrlPath<String>) -> Response {
        let Some(bytes) = self.files.get(name.as_str()) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let content_type = if name.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes.clone(),
        )
            .into_response()
    }
}

fn render(urls: &[String]) -> String {
    let [react, react_dom, graphiql, css] = [&urls[0], &urls[1], &urls[2], &urls[3]];
    format!(
        r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lianxin 连心 GraphiQL</title>
<link rel="stylesheet" href="{css}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script>
  const ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";
  const fetcher = GraphiQL.createFetcher({{ url: "/graphql", subscriptionUrl: ws }});
  const defaultQuery = "# Log in with the login mutation, then put the token in Headers:\n" +
    "# {{ \"Authorization\": \"Bearer <token>\" }}\n" +
    "query Me {{\n  me {{\n    username\n    displayName\n    roles {{ role }}\n  }}\n}}\n";
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher,
      defaultQuery,
      defaultEditorToolbarOpen: true,
      shouldPersistHeaders: false,
    }})
  );
</script>
</body>
</html>
"##
    )
}
