//! The OpenAPI 3 document served at `GET /api/v1/openapi.json`, generated from the handlers'
//! annotations and the response types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    components(schemas(crate::error::FieldError)),
    modifiers(&BearerAuth)
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
