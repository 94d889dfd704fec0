//! Accounts: registration, login with rate limits, sessions, profiles and the operator role.
//!
//! Passwords are hashed with argon2id (on a few threads of its own, see `hashing.rs`). Session
//! tokens are 256 random bits; only their SHA-256 is stored, so a leaked database holds no usable
//! token.

pub mod hashing;
pub mod http;
pub mod model;
pub mod store;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

pub use model::{Bio, DisplayName, Email, LoginPolicy, Password, Profile};

use crate::clock::Millis;
use crate::db::{Db, is_unique_violation, new_id};
use crate::error::{AppError, FieldErrors};

/// What can go wrong in accounts.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Another account uses this e-mail address.
    #[error("email taken")]
    EmailTaken,
    /// Wrong e-mail or password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins; retry after the given seconds.
    #[error("rate limited")]
    RateLimited(u64),
    /// Field validation failed.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Hashing failure (should not happen with valid parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::EmailTaken => AppError::Conflict {
                code: "email_taken",
                message: "このメールアドレスはすでに登録されています。".into(),
            },
            AccountError::InvalidCredentials => AppError::InvalidCredentials,
            AccountError::RateLimited(secs) => AppError::RateLimited {
                retry_after_secs: secs,
            },
            AccountError::Invalid(fields) => AppError::Validation(fields),
            AccountError::NotFound => AppError::NotFound,
            AccountError::Db(e) => AppError::internal(e),
            AccountError::Hash(e) => AppError::internal(std::io::Error::other(e)),
        }
    }
}

/// A new account as submitted.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Raw e-mail.
    pub email: String,
    /// Raw password.
    pub password: String,
    /// Raw display name.
    pub display_name: String,
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token (shown once, never stored).
    pub token: String,
    /// The user.
    pub user_id: String,
}

/// Signs a new user up: the display name passes the contact guard, then [`register`].
pub async fn sign_up(
    state: &crate::state::AppState,
    input: Registration,
) -> Result<Profile, AppError> {
    let name = [("display_name", input.display_name.as_str())];
    crate::guard::screen(state, None, &crate::guard::Context::Profile, &name).await?;
    Ok(register(&state.db, state.clock.now_ms(), input).await?)
}

/// Edits the caller's profile: refused while restricted, screened by the contact guard, then
/// [`update_profile`].
pub async fn edit_profile(
    state: &crate::state::AppState,
    user_id: &str,
    display_name: Option<&str>,
    bio: Option<&str>,
) -> Result<Profile, AppError> {
    use crate::guard;
    guard::ensure_allowed(state, user_id, guard::Activity::ProfileEdit).await?;
    let mut fields = vec![];
    if let Some(n) = display_name {
        fields.push(("display_name", n));
    }
    if let Some(b) = bio {
        fields.push(("bio", b));
    }
    guard::screen(state, Some(user_id), &guard::Context::Profile, &fields).await?;
    Ok(update_profile(&state.db, state.clock.now_ms(), user_id, display_name, bio).await?)
}

/// Creates an account. Errors: `Invalid` with every field error, `EmailTaken`.
pub async fn register(db: &Db, now: Millis, input: Registration) -> Result<Profile, AccountError> {
    let mut errors = FieldErrors::new();
    let email = errors.take(Email::parse(&input.email));
    let password = errors.take(Password::parse(&input.password));
    let name = errors.take(DisplayName::parse(&input.display_name));
    let (Some(email), Some(password), Some(name)) = (email, password, name) else {
        return Err(AccountError::Invalid(errors));
    };
    let hash = hash_password(password).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    match store::insert_user(&mut tx, &id, email.as_str(), &hash, name.as_str(), now).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => return Err(AccountError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    crate::templates::store::seed_standard(&mut tx, &id, now).await?;
    tx.commit().await?;
    Ok(Profile {
        id,
        email: email.as_str().to_string(),
        display_name: name.as_str().to_string(),
        bio: String::new(),
        roles: vec![],
        restriction: None,
    })
}

/// Logs in. Failed attempts are counted per e-mail and per client address; past the policy's
/// limits the answer is `RateLimited` even for the right password.
pub async fn login(
    db: &Db,
    policy: &LoginPolicy,
    now: Millis,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<Session, AccountError> {
    // An unparseable address cannot match an account; it still counts against the client.
    let email_key = Email::parse(email)
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| email.trim().to_ascii_lowercase());
    let since = now - policy.window_ms;
    let user = {
        let mut conn = db.pool().acquire().await?;
        let by_email = store::failed_attempts_for_email(&mut conn, &email_key, since).await?;
        let by_client = store::failed_attempts_for_client(&mut conn, client_addr, since).await?;
        policy
            .check(now, by_email, by_client)
            .map_err(AccountError::RateLimited)?;
        store::user_by_email(&mut conn, &email_key).await?
    };
    // Verify even when there is no such user, so timing does not tell which e-mails exist.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_password(password.to_string(), stored_hash).await?;
    let mut tx = db.begin().await?;
    store::prune_login_attempts(&mut tx, since).await?;
    store::insert_login_attempt(&mut tx, &new_id(), &email_key, client_addr, now, ok).await?;
    let session = match (ok, user) {
        (true, Some(user)) => {
            let token = new_token();
            let expires = now + policy.session_ttl_ms;
            store::insert_session(
                &mut tx,
                &crate::auth::hash_token(&token),
                &user.id,
                now,
                expires,
            )
            .await?;
            store::touch_login(&mut tx, &user.id, now).await?;
            Ok(Session {
                token,
                user_id: user.id,
            })
        }
        _ => Err(AccountError::InvalidCredentials),
    };
    tx.commit().await?;
    session
}

/// Ends the session of this token (no error if it was already gone).
pub async fn logout(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    store::delete_session(&mut conn, &crate::auth::hash_token(token)).await
}

/// The caller's own profile.
pub async fn profile(db: &Db, user_id: &str) -> Result<Profile, AccountError> {
    let mut conn = db.pool().acquire().await?;
    let user = store::user_by_id(&mut conn, user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    Ok(to_profile(user))
}

/// Changes name and/or bio; absent fields keep their value.
pub async fn update_profile(
    db: &Db,
    now: Millis,
    user_id: &str,
    display_name: Option<&str>,
    bio: Option<&str>,
) -> Result<Profile, AccountError> {
    let mut errors = FieldErrors::new();
    let name = display_name.map(DisplayName::parse).map(|r| errors.take(r));
    let bio = bio.map(Bio::parse).map(|r| errors.take(r));
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let user = store::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    let new_name = name
        .flatten()
        .map(|n| n.as_str().to_string())
        .unwrap_or(user.display_name.clone());
    let new_bio = bio
        .flatten()
        .map(|b| b.as_str().to_string())
        .unwrap_or(user.bio.clone());
    store::update_profile(&mut tx, user_id, &new_name, &new_bio, now).await?;
    tx.commit().await?;
    Ok(to_profile(store::UserRow {
        display_name: new_name,
        bio: new_bio,
        ..user
    }))
}

/// Grants the operator role to the account with this e-mail.
pub async fn grant_operator(db: &Db, now: Millis, email: &str) -> Result<(), AccountError> {
    let email = Email::parse(email).map_err(|e| {
        let mut f = FieldErrors::new();
        f.add(e.field, e.code, e.message);
        AccountError::Invalid(f)
    })?;
    let mut tx = db.begin().await?;
    if !store::set_operator(&mut tx, email.as_str(), true, now).await? {
        return Err(AccountError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

fn to_profile(user: store::UserRow) -> Profile {
    Profile {
        roles: if user.is_operator == 1 {
            vec!["operator".to_string()]
        } else {
            vec![]
        },
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        bio: user.bio,
        restriction: None,
    }
}

/// Hashes a password with argon2id and a random salt, on the hashing threads.
pub async fn hash_password(password: Password) -> Result<String, AccountError> {
    hashing::run(move || hashing::hash(password.expose().as_bytes()))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// A fixed argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3sS7FGbV4Tq3y8p1ZxWqVg6nS0mV3qH6bGl0m8b0b3E";

async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AccountError> {
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = hashing::run(move || hashing::verify(password.as_bytes(), &hash))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(ok && exists)
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(crate::auth::hash_token(&a).len(), 64);
        assert_ne!(crate::auth::hash_token(&a), a);
    }
}
