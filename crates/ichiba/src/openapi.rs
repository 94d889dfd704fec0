//! The OpenAPI 3 document served at `GET /api/v1/openapi.json`, generated from the handlers'
//! annotations and the response types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{accounts, app, listings};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "ichiba API", description = "スキルマーケット ichiba の HTTP API (JSON)."),
    paths(
        app::healthz,
        app::advance_clock,
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
