//! A safety net: every error leaving the schema carries `extensions.code`. Errors without
//! one are either GraphQL's own (parse, validation, limits: `BAD_USER_INPUT`) or an unexpected
//! resolver error, which is logged and replaced by a generic `INTERNAL`.

use std::sync::Arc;

use futures_util::{StreamExt, stream::BoxStream};

use async_graphql::{
    Response, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
};

use crate::core::error::ErrorCode;
use crate::core::error::INTERNAL_MESSAGE;

pub struct ErrorCodes;

/// How async-graphql words the input-coercion errors it raises at a field (client errors).
const INPUT_ERROR_MARKERS: [&str; 4] = [
    "Failed to parse",
    "occurred while parsing",
    "Invalid value for argument",
    "Expected input type",
];

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        code_errors(&mut response);
        response
    }

    /// Everything sent over the WebSocket (queries, mutations and subscription events alike)
    /// goes through this stream, not through `request`.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                code_errors(&mut response);
                response
            })
            .boxed()
    }
}

/// Gives every error of a response an `extensions.code`.
pub fn code_errors(response: &mut Response) {
    for err in &mut response.errors {
        let has_code = err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let input_error = INPUT_ERROR_MARKERS.iter().any(|m| err.message.contains(m));
        let code = if err.path.is_empty() || input_error {
            ErrorCode::BadUserInput
        } else {
            tracing::error!(message = %err.message, path = ?err.path, "uncoded resolver error");
            err.message = INTERNAL_MESSAGE.to_owned();
            ErrorCode::Internal
        };
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", Value::from(code.as_str()));
    }
}
