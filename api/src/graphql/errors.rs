//! Every error leaving the schema carries `extensions.code`.
//!
//! Every resolver returns `AppResult` (the project's error type, always coded, internals
//! hidden), so an error without a code was raised by async-graphql itself: a developer's
//! mistake, never what a person typed (`BAD_USER_INPUT`). It is classified:
//! - `GRAPHQL_PARSE_FAILED`: the text is not GraphQL;
//! - `BAD_REQUEST`: an argument or variable value does not fit its type (an unknown enum
//!   value, with `extensions.allowedValues`; a missing input field; an unparsable scalar),
//!   with the path of the input field at fault in `extensions.field` (`input.subject`);
//! - `GRAPHQL_VALIDATION_FAILED`: anything else about the document (unknown fields, missing
//!   arguments, the depth and cost limits, with `extensions.limit`).
//!
//! The English wording of async-graphql stays in `extensions.detail`.

use std::sync::Arc;

use futures_util::{StreamExt, stream::BoxStream};

use async_graphql::{
    Response, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
};

use crate::core::error::{ErrorCode, ErrorReason, reason_name};

/// The limits a schema was built with (depth, complexity), named in refusals.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
}

pub struct ErrorCodes(pub Limits);

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension(self.0))
    }
}

struct ErrorCodesExtension(Limits);

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        code_errors(&mut response, self.0);
        response
    }

    /// Everything sent over the WebSocket (queries, mutations and subscription events alike) goes through this stream, not through `request`.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let limits = self.0;
        next.run(ctx, stream)
            .map(move |mut response| {
                code_errors(&mut response, limits);
                response
            })
            .boxed()
    }
}

/// Most errors a response lists; the rest are counted in the last one.
pub const MAX_ERRORS: usize = 20;

/// Longest error message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Gives every error of a response an `extensions.code`, bounds each message's length and the number of errors (the rest are counted in `extensions.omittedErrors` of a last one).
pub fn code_errors(response: &mut Response, limits: Limits) {
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
            let ext = err.extensions.get_or_insert_with(Default::default);
            if ext.get("reason").is_none() {
                let code = ext.get("code").map(|c| c.to_string()).unwrap_or_default();
                let reason = match code.trim_matches('"') {
                    "GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED" => {
                        Some(ErrorReason::InvalidDocument)
                    }
                    "BAD_REQUEST" => Some(ErrorReason::InvalidValue),
                    _ => None,
                };
                if let Some(reason) = reason {
                    ext.set("reason", Value::from(reason_name(reason)));
                }
            }
            continue;
        }
        let detail: String = err.message.chars().take(MAX_MESSAGE_CHARS).collect();
        let found = classify(&err.message, !err.path.is_empty(), limits);
        err.message = found.message;
        let ext = err.extensions.get_or_insert_with(Default::default);
        ext.set("detail", Value::from(detail));
        ext.set("code", Value::from(found.code.as_str()));
        ext.set("reason", Value::from(reason_name(found.reason)));
        if let Some(field) = found.field {
            ext.set("field", Value::from(field));
        }
        if let Some(values) = found.allowed {
            ext.set(
                "allowedValues",
                Value::List(values.into_iter().map(Value::from).collect()),
            );
        }
        if let Some(limit) = found.limit {
            ext.set("limit", Value::from(limit as u64));
        }
    }
}

/// What an uncoded error of async-graphql is.
struct Classified {
    code: ErrorCode,
    reason: ErrorReason,
    message: String,
    field: Option<String>,
    allowed: Option<Vec<String>>,
    limit: Option<usize>,
}

/// Each enum of the schema with its values, for `allowedValues`.
static ENUMS: std::sync::OnceLock<std::collections::HashMap<String, Vec<String>>> =
    std::sync::OnceLock::new();

/// Learns the enums' values from the schema's SDL (once per process).
pub fn learn_schema(sdl: &str) {
    if ENUMS.get().is_some() {
        return;
    }
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let mut enums = std::collections::HashMap::new();
    if let Ok(doc) = async_graphql::parser::parse_schema(sdl) {
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def
                && let TypeKind::Enum(e) = &t.node.kind
            {
                enums.insert(
                    t.node.name.node.to_string(),
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                );
            }
        }
    }
    let _ = ENUMS.set(enums);
}

/// The text between the first `"` after `after` and the next `"`.
fn quoted_after<'a>(text: &'a str, after: &str) -> Option<&'a str> {
    let rest = &text[text.find(after)? + after.len()..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(&rest[start..start + len])
}

fn classify(message: &str, at_field: bool, limits: Limits) -> Classified {
    let plain = |code: ErrorCode, message: String| Classified {
        code,
        reason: match code {
            ErrorCode::BadRequest => ErrorReason::InvalidValue,
            _ => ErrorReason::InvalidDocument,
        },
        message,
        field: None,
        allowed: None,
        limit: None,
    };
    if message.starts_with(" --> ") || message.contains("\n  = expected") {
        return plain(
            ErrorCode::GraphqlParseFailed,
            "查询文本不是有效的 GraphQL".to_owned(),
        );
    }
    let (max_depth, max_complexity) = (limits.depth, limits.complexity);
    if message == "Query is nested too deep." {
        let mut c = plain(
            ErrorCode::GraphqlValidationFailed,
            format!("查询嵌套超过 {max_depth} 层的上限"),
        );
        c.limit = Some(max_depth);
        c.reason = ErrorReason::DepthLimitExceeded;
        return c;
    }
    if message == "Query is too complex." {
        let mut c = plain(
            ErrorCode::GraphqlValidationFailed,
            format!("查询代价超过 {max_complexity} 的上限（每个列表按请求的条数计）"),
        );
        c.limit = Some(max_complexity);
        c.reason = ErrorReason::CostLimitExceeded;
        return c;
    }
    if message.starts_with("Invalid value for argument") {
        let argument = quoted_after(message, "argument").unwrap_or("");
        let field = match quoted_after(message, ", field") {
            Some(f) if message.contains("is required but not provided") => {
                format!("{argument}.{f}")
            }
            _ => argument.to_owned(),
        };
        let mut c = plain(
            ErrorCode::BadRequest,
            format!("参数 {field} 的值不符合类型"),
        );
        if message.contains("is required but not provided") {
            c.message = format!("缺少必填字段 {field}");
            c.reason = ErrorReason::MissingInputField;
        }
        let enum_name = quoted_after(message, "enumeration type").or_else(|| {
            quoted_after(message, "expected type")
                .filter(|t| ENUMS.get().is_some_and(|e| e.contains_key(*t)))
        });
        if let Some(enum_name) = enum_name {
            let allowed = ENUMS.get().and_then(|e| e.get(enum_name)).cloned();
            c.message = match &allowed {
                Some(values) => format!("{field} 只能是 {}", values.join("、")),
                None => format!("{field} 不是 {enum_name} 的可选值"),
            };
            c.allowed = allowed;
            c.reason = ErrorReason::InvalidEnumValue;
        }
        c.field = Some(field);
        return c;
    }
    if at_field || message.starts_with("Failed to parse") {
        // A value that reached a resolver's argument and could not be read (a date that is
        // not a date): the argument is named where async-graphql says so.
        let field = quoted_after(message, "occurred while parsing").map(str::to_owned);
        // A scalar of ours says why in Chinese (`Failed to parse "Date": 日期须在…`).
        let own = message
            .split_once("\": ")
            .map(|(_, why)| why.split(" (occurred while").next().unwrap_or(why).trim())
            .filter(|why| !why.is_ascii() && !why.is_empty());
        let mut c = plain(
            ErrorCode::BadRequest,
            match (&field, own) {
                (Some(f), Some(why)) => format!("参数 {f}：{why}"),
                (None, Some(why)) => why.to_owned(),
                (Some(f), None) => format!("参数 {f} 的值无法解析"),
                (None, None) => "参数的值无法解析".to_owned(),
            },
        );
        c.field = field;
        return c;
    }
    plain(
        ErrorCode::GraphqlValidationFailed,
        "查询不符合接口定义（见 extensions.detail）".to_owned(),
    )
}

/// The list of refusal reasons, for clients that build their messages ahead.
#[derive(Default)]
pub struct ErrorReasonQuery;

#[async_graphql::Object]
impl ErrorReasonQuery {
    /// Every value `extensions.reason` may take (each one's meaning is in the enum's descriptions; README, "Error reasons").
    async fn error_reasons(&self) -> Vec<ErrorReason> {
        use async_graphql::resolver_utils::EnumType;
        ErrorReason::items().iter().map(|item| item.value).collect()
    }
}
