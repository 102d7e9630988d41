//! Every error leaving the schema carries `extensions.code`.
//!
//! Errors are classified by where they come from, never by their wording: every resolver
//! returns `AppResult` (the project's error type, always coded, internals hidden), so an
//! error without a code was raised by async-graphql itself — parsing, validation and limits
//! (no path), or the coercion of a field's arguments (at the field's path). Both are the
//! client's: `BAD_USER_INPUT`.

use std::sync::Arc;

use futures_util::{StreamExt, stream::BoxStream};

use async_graphql::{
    Response, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
};

use crate::core::error::ErrorCode;

pub struct ErrorCodes;

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

/// Most errors a response lists; the rest are counted in the last one.
pub const MAX_ERRORS: usize = 20;

/// Longest error message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Gives every error of a response an `extensions.code`, bounds each message's length and
/// the number of errors (the rest are counted in `extensions.omittedErrors` of a last one).
pub fn code_errors(response: &mut Response) {
    if response.errors.len() > MAX_ERRORS {
        let omitted = response.errors.len() - MAX_ERRORS;
        response.errors.truncate(MAX_ERRORS);
        let mut more =
            async_graphql::ServerError::new(format!("另有 {omitted} 个错误未列出"), None);
        let ext = more.extensions.get_or_insert_with(Default::default);
        ext.set("code", Value::from(ErrorCode::BadUserInput.as_str()));
        ext.set("omittedErrors", Value::from(omitted as u64));
        response.errors.push(more);
    }
    for err in &mut response.errors {
        if err.message.chars().count() > MAX_MESSAGE_CHARS {
            let cut: String = err.message.chars().take(MAX_MESSAGE_CHARS - 1).collect();
            err.message = format!("{cut}…");
        }
        let has_code = err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = ErrorCode::BadUserInput;
        // async-graphql's own wording (English, may quote the document) goes to `detail`;
        // the message is short and Chinese, chosen by where the error arose.
        let detail: String = err.message.chars().take(MAX_MESSAGE_CHARS).collect();
        err.message = match err.path.last() {
            Some(async_graphql::PathSegment::Field(f)) => format!("字段 {f} 的参数无效"),
            Some(_) => "参数无效".to_owned(),
            None if err.locations.is_empty() => "请求无效或超出限制".to_owned(),
            None => "查询不符合接口定义".to_owned(),
        };
        err.extensions
            .get_or_insert_with(Default::default)
            .set("detail", Value::from(detail));
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", Value::from(code.as_str()));
    }
}
