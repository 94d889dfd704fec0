//! Message templates (定型文): each user's own list, seeded with the standard set at sign-up, and
//! rendered for an order with its placeholders filled.

pub mod http;
pub mod model;
pub mod store;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Identity;
use crate::error::AppError;
use crate::state::AppState;

/// A template as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Body with placeholders.
    pub body: String,
}

impl From<store::TemplateRow> for TemplateView {
    fn from(r: store::TemplateRow) -> Self {
        TemplateView {
            id: r.id,
            title: r.title,
            body: r.body,
        }
    }
}

/// The user's templates.
pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<TemplateView>, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::list(&mut conn, user_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Adds a template (50 at most).
pub async fn create(
    state: &AppState,
    user_id: &str,
    title: &str,
    body: &str,
) -> Result<TemplateView, AppError> {
    let (title, body) = model::validate(title, body)?;
    let mut tx = state.db.begin().await?;
    let (count, next) = store::count_and_next(&mut tx, user_id).await?;
    if count >= model::MAX_TEMPLATES {
        return Err(AppError::Rule {
            code: "too_many_templates",
            message: format!("定型文は{}件まで登録できます。", model::MAX_TEMPLATES),
            details: serde_json::json!({}),
        });
    }
    let row = store::insert(&mut tx, user_id, &title, &body, next, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Changes one of the user's templates (others' are 404).
pub async fn update(
    state: &AppState,
    user_id: &str,
    id: &str,
    title: &str,
    body: &str,
) -> Result<TemplateView, AppError> {
    let (title, body) = model::validate(title, body)?;
    let mut tx = state.db.begin().await?;
    if !store::update(&mut tx, user_id, id, &title, &body, state.clock.now_ms()).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(TemplateView {
        id: id.into(),
        title,
        body,
    })
}

/// Deletes one of the user's templates.
pub async fn delete(state: &AppState, user_id: &str, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    if !store::delete(&mut tx, user_id, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The placeholder values of an order the caller may see (404 otherwise).
async fn values_for(
    state: &AppState,
    who: &Identity,
    order_id: &str,
) -> Result<model::Values, AppError> {
    let order = crate::orders::get(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (buyer_name, seller_name) = crate::orders::store::party_names(&mut conn, order_id)
        .await?
        .unwrap_or_default();
    Ok(model::Values {
        buyer_name,
        seller_name,
        service_title: order.title.clone(),
        due_date: crate::clock::jst_date(order.due_at),
    })
}

fn rendered(t: store::TemplateRow, values: &model::Values) -> TemplateView {
    TemplateView {
        title: model::render(&t.title, values),
        body: model::render(&t.body, values),
        id: t.id,
    }
}

/// Renders one of the caller's templates for an order the caller is a party of.
pub async fn render(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    template_id: &str,
) -> Result<TemplateView, AppError> {
    let values = values_for(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let t = store::get(&mut conn, &who.user_id, template_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(rendered(t, &values))
}

/// Every one of the caller's templates rendered for an order the caller is a party of (the
/// talk room's template picker): the order and names are read once, not per template.
pub async fn render_all(
    state: &AppState,
    who: &Identity,
    order_id: &str,
) -> Result<Vec<TemplateView>, AppError> {
    let values = values_for(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::list(&mut conn, &who.user_id)
        .await?
        .into_iter()
        .map(|t| rendered(t, &values))
        .collect())
}
