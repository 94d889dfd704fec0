//! The OpenAPI 3 document served at `GET /api/v1/openapi.json`, generated from the handlers'
//! annotations and the response types. The error responses every operation can give because of
//! the edge it passes through (401/403 for a secured one, 400 for a malformed path, query or body,
//! 404 for an unknown id, 413 for an oversize body, 422 for a refused character or a field error,
//! 429 for a restriction) are added by [`ErrorResponses`] from the operation's shape, so no handler
//! can forget one; every error response carries the one error body of API.md. The document is
//! checked by `openapi-spec-validator` and fuzzed by schemathesis in CI (`scripts/api-fuzz.sh`).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::{
    accounts, appeals, attachments, guard, ledger, listings, messages, notifications, orders,
    payouts, reputation, reviews, system, templates,
};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "ichiba API", description = "スキルマーケット ichiba の HTTP API (JSON)."),
    paths(
        system::healthz,
        system::advance_clock,
        accounts::http::register,
        accounts::http::login,
        accounts::http::logout,
        accounts::http::me,
        accounts::http::update_me,
        listings::http::categories,
        listings::http::create,
        listings::http::list,
        listings::http::my_listings,
        listings::http::detail,
        listings::http::update,
        listings::http::remove,
        listings::http::pause,
        listings::http::resume,
        orders::http::purchase,
        orders::http::list,
        orders::http::detail,
        orders::http::history,
        orders::http::messages,
        orders::http::post_message,
        orders::http::set_due_date,
        orders::http::deliver,
        orders::http::accept,
        orders::http::send_back,
        orders::http::file_cancel,
        orders::http::accept_cancel,
        orders::http::reject_cancel,
        orders::http::withdraw_cancel,
        orders::http::operator_cancel,
        orders::http::operator_complete,
        orders::http::operator_settle,
        messages::http::send,
        messages::http::threads,
        messages::http::thread,
        attachments::http::upload,
        attachments::http::download,
        ledger::http::my_balance,
        ledger::http::my_ledger,
        ledger::http::verify,
        payouts::http::my_ledger_csv,
        payouts::http::put_bank_account,
        payouts::http::get_bank_account,
        payouts::http::delete_bank_account,
        payouts::http::request,
        payouts::http::list,
        payouts::http::convert_points,
        payouts::http::export,
        payouts::http::settle,
        payouts::http::batch_detail,
        payouts::http::batch_file,
        notifications::http::list,
        notifications::http::read_one,
        notifications::http::read_all,
        notifications::http::events,
        notifications::http::dev_events,
        templates::http::list,
        templates::http::create,
        templates::http::update,
        templates::http::remove,
        templates::http::render,
        appeals::http::file,
        appeals::http::queue,
        appeals::http::decide,
        guard::http::lift,
        reviews::http::submit,
        reviews::http::of_order,
        reviews::http::reply,
        reviews::http::for_user,
        reviews::http::for_listing,
        reviews::http::for_operator,
        reputation::http::public_metrics,
        reputation::http::my_metrics,
        reputation::http::my_rank,
        reputation::http::ranking,
        reputation::http::identity,
    ),
    components(schemas(crate::error::FieldError, crate::listings::Sort, ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The body of every error response (API.md): `{"error": {"code", "message", "details"}}`.
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used; the body is built by `AppError::body`
struct ErrorBody {
    /// The error.
    error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// A stable snake_case code (`validation_failed`, `not_found`, `off_platform_contact`, …).
    code: String,
    /// A Japanese sentence for the user.
    message: String,
    /// Machine-readable details: `fields` for `validation_failed`, `findings` for
    /// `off_platform_contact`, …; `{}` when there are none.
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

/// Adds the error responses the edge gives to every operation of a shape, and the error body
/// to every error response.
struct ErrorResponses;

/// The error statuses an operation can answer because of its shape.
fn edge_statuses(op: &Operation) -> Vec<&'static str> {
    let mut statuses = vec![];
    let has = |place: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    // A requirement without schemes (`{}`) makes the token optional: a bad one is still 401.
    let requirements: Vec<bool> = op
        .security
        .iter()
        .flatten()
        .map(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
        .collect();
    if requirements.iter().any(|empty| !empty) {
        statuses.push("401");
        if !requirements.iter().any(|empty| *empty) {
            statuses.push("403");
        }
    }
    if has(ParameterIn::Path) {
        // A path segment that is not UTF-8 or holds a control character; an unknown id.
        statuses.extend(["400", "404"]);
    }
    if has(ParameterIn::Query) {
        // A value of the wrong type; a refused character (crate::text).
        statuses.extend(["400", "422"]);
    }
    if op.request_body.is_some() {
        // Malformed or oversize; a refused character or a field error; a restriction.
        statuses.extend(["400", "413", "422", "429"]);
    }
    statuses
}

/// The description of an error status.
fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request (path, query or body); `error.code` says which.",
        "401" => "No token, or an unknown or expired one (`unauthenticated`).",
        "402" => "The payment was declined (`payment_declined`).",
        "403" => "Not allowed for this user (`operator_only`, a suspension, …).",
        "404" => "Not found, or not visible to the caller (`not_found`).",
        "409" => "Conflicts with the current state.",
        "413" => "The body is larger than the route accepts (`payload_too_large`).",
        "422" => {
            "Valid JSON that breaks a rule: `validation_failed` with `details.fields` \
             (a control character is `invalid_characters`), `off_platform_contact`, …"
        }
        "429" => "Rate-limited (`rate_limited`) or restricted by the contact guard (`restricted`).",
        _ => "Error.",
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for status in edge_statuses(op) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(Response::new("")));
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if !status.starts_with('4') && !status.starts_with('5') {
                        continue;
                    }
                    if response.description.is_empty() {
                        response.description = error_description(status).to_string();
                    }
                    if response.content.is_empty() {
                        response.content.insert(
                            "application/json".to_string(),
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("serialisable")
    }

    /// Every operation as (method, path, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = vec![];
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
        out
    }

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap_or_default().to_string());
                    }
                    refs(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_names_a_schema_of_the_document() {
        let doc = document();
        let mut all = vec![];
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {r}"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} does not exist"
            );
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = BTreeSet::new();
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"].as_str().expect("operationId").to_string();
            assert!(seen.insert(id.clone()), "{id} twice ({method} {path})");
        }
    }

    #[test]
    fn path_parameters_are_exactly_the_template_names_and_the_rest_are_queries_or_headers() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            let template: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let declared: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(template, declared, "{method} {path}");
            for p in &params {
                let place = p["in"].as_str().unwrap_or_default();
                assert!(
                    ["path", "query", "header"].contains(&place),
                    "{method} {path}: {p}"
                );
                if place == "query" {
                    assert_ne!(p["required"], true, "{method} {path}: {p}");
                }
            }
        }
    }

    #[test]
    fn every_operation_documents_the_errors_of_its_shape_with_the_error_body() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            let responses = op["responses"].as_object().expect("responses");
            let has = |s: &str| responses.contains_key(s);
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let at = |place: &str| params.iter().any(|p| p["in"] == place);
            let what = format!("{method} {path}");
            let security = op["security"].as_array().cloned().unwrap_or_default();
            if security.iter().any(|r| r != &serde_json::json!({})) {
                assert!(has("401"), "{what}: 401");
            }
            if at("path") {
                assert!(has("400") && has("404"), "{what}: 400/404");
            }
            if at("query") || op["requestBody"].is_object() {
                assert!(has("400") && has("422"), "{what}: 400/422");
            }
            for (status, response) in responses {
                if status.starts_with('4') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{what}: {status}"
                    );
                    assert!(
                        !response["description"]
                            .as_str()
                            .unwrap_or_default()
                            .is_empty(),
                        "{what}: {status}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_command_on_an_order_documents_the_conflict_of_a_closed_one() {
        // Found by schemathesis: PUT /orders/{id}/due-date answered an undocumented 409.
        let doc = document();
        for (method, path, op) in operations(&doc) {
            if path.starts_with("/api/v1/orders/{id}/") && (method == "post" || method == "put") {
                assert!(op["responses"]["409"].is_object(), "{method} {path}");
            }
        }
    }

    #[test]
    fn each_settle_endpoint_documents_its_own_body() {
        let doc = document();
        let body = |path: &str| {
            let r =
                doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                    ["$ref"]
                    .as_str()
                    .expect("body reference")
                    .trim_start_matches("#/components/schemas/")
                    .to_string();
            doc["components"]["schemas"][r]["properties"].clone()
        };
        let payouts = body("/api/v1/admin/payouts/settle");
        assert!(
            payouts["paid"].is_object() && payouts["failed"].is_object(),
            "{payouts}"
        );
        let order = body("/api/v1/admin/orders/{id}/settle");
        assert!(order["seller_amount_yen"].is_object(), "{order}");
    }
}
