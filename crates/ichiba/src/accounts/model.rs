//! Account types and their pure rules: parsed e-mail, password, display name and bio newtypes (the
//! only way in), the identity of an authenticated caller, and the login rate-limit policy.

use serde::Serialize;

use crate::clock::Millis;
use crate::error::FieldError;

/// A normalised e-mail address: trimmed, lower-cased, one `@`, a dotted domain, ASCII only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses user input into an address. Errors name the field `email`.
    pub fn parse(input: &str) -> Result<Email, FieldError> {
        let bad = |code, message: &str| FieldError {
            field: "email".into(),
            code,
            message: message.into(),
        };
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(bad("required", "メールアドレスを入力してください。"));
        }
        if s.len() > 254 {
            return Err(bad("too_long", "メールアドレスが長すぎます。"));
        }
        if !s.is_ascii()
            || s.chars()
                .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        {
            return Err(bad(
                "invalid_format",
                "メールアドレスは半角英数字で入力してください。",
            ));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(bad(
                "invalid_format",
                "メールアドレスの形式が正しくありません。",
            ));
        };
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad(
                "invalid_format",
                "メールアドレスの形式が正しくありません。",
            ));
        }
        Ok(Email(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 to 128 characters. Never stored; only its argon2id hash is.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Minimum length in characters.
    pub const MIN_CHARS: usize = 8;
    /// Maximum length in characters (bounds the hashing cost an attacker can ask for).
    pub const MAX_CHARS: usize = 128;

    /// Parses a new password. Errors name the field `password`.
    pub fn parse(input: &str) -> Result<Password, FieldError> {
        let n = input.chars().count();
        let bad = |code, message: String| FieldError {
            field: "password".into(),
            code,
            message,
        };
        if n < Self::MIN_CHARS {
            return Err(bad(
                "too_short",
                format!(
                    "パスワードは{}文字以上で入力してください。",
                    Self::MIN_CHARS
                ),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(bad(
                "too_long",
                format!(
                    "パスワードは{}文字以内で入力してください。",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Password(input.to_string()))
    }

    /// The characters, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A public display name (ニックネーム): trimmed, 1 to 40 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 40;

    /// Parses a display name. Errors name the field `display_name`.
    pub fn parse(input: &str) -> Result<DisplayName, FieldError> {
        // Zero-width and other invisible characters at the ends are no part of a name, and a
        // name made only of them is empty (crate::text).
        let s = crate::text::trim(input);
        let bad = |code, message: String| FieldError {
            field: "display_name".into(),
            code,
            message,
        };
        if s.is_empty() {
            return Err(bad("required", "表示名を入力してください。".into()));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(bad(
                "too_long",
                format!("表示名は{}文字以内で入力してください。", Self::MAX_CHARS),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(bad(
                "invalid_characters",
                "表示名に使用できない文字が含まれています。".into(),
            ));
        }
        Ok(DisplayName(s.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A profile text (自己紹介): up to 3,000 characters; line breaks and tabs allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl Bio {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 3000;

    /// Parses a bio. Errors name the field `bio`.
    pub fn parse(input: &str) -> Result<Bio, FieldError> {
        let s = input.trim();
        let bad = |code, message: String| FieldError {
            field: "bio".into(),
            code,
            message,
        };
        if s.chars().count() > Self::MAX_CHARS {
            return Err(bad(
                "too_long",
                format!("自己紹介は{}文字以内で入力してください。", Self::MAX_CHARS),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(bad(
                "invalid_characters",
                "自己紹介に使用できない文字が含まれています。".into(),
            ));
        }
        Ok(Bio(s.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's own view of their account (`GET /api/v1/me`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// User id.
    pub id: String,
    /// Normalised e-mail address.
    pub email: String,
    /// Public name.
    pub display_name: String,
    /// Profile text.
    pub bio: String,
    /// Roles: empty, or `["operator"]`.
    pub roles: Vec<String>,
    /// The sanction in force, if any (`{kind, until_at, reason}`); `null` when none.
    pub restriction: Option<crate::guard::Standing>,
}

/// Limits on failed logins, counted over a sliding window in the database (so they hold across
/// several instances).
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Window length.
    pub window_ms: Millis,
    /// Failed attempts allowed per e-mail address within the window.
    pub max_failed_per_email: i64,
    /// Failed attempts allowed per client address within the window.
    pub max_failed_per_client: i64,
    /// Session lifetime.
    pub session_ttl_ms: Millis,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            window_ms: 15 * 60 * 1000,
            max_failed_per_email: 5,
            max_failed_per_client: 20,
            session_ttl_ms: 30 * 24 * 60 * 60 * 1000,
        }
    }
}

impl LoginPolicy {
    /// Whether a login may be attempted given the failures already counted, and if not, how many
    /// seconds until the oldest counted failure leaves the window.
    pub fn check(
        &self,
        now: Millis,
        failed_for_email: (i64, Option<Millis>),
        failed_for_client: (i64, Option<Millis>),
    ) -> Result<(), u64> {
        let wait = |oldest: Option<Millis>| {
            let until = oldest.unwrap_or(now) + self.window_ms;
            u64::try_from(((until - now) + 999) / 1000)
                .unwrap_or(1)
                .max(1)
        };
        if failed_for_email.0 >= self.max_failed_per_email {
            return Err(wait(failed_for_email.1));
        }
        if failed_for_client.0 >= self.max_failed_per_client {
            return Err(wait(failed_for_client.1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Hanako@Example.JP ").unwrap().as_str(),
            "hanako@example.jp"
        );
    }

    #[test]
    fn malformed_emails_are_refused_with_a_field_error() {
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "a@@b.jp",
            "a b@c.jp",
            "@c.jp",
            "a@-c.jp",
            "花子@c.jp",
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters_counted_as_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("パスワードです。").is_ok()); // 8 characters, 24 bytes
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  山田 ").unwrap().as_str(), "山田");
        assert_eq!(DisplayName::parse("   ").unwrap_err().code, "required");
        assert_eq!(
            DisplayName::parse(&"あ".repeat(41)).unwrap_err().code,
            "too_long"
        );
        assert!(DisplayName::parse("a\u{0007}b").is_err());
    }

    #[test]
    fn the_login_policy_blocks_after_the_limit_and_says_how_long() {
        let p = LoginPolicy::default();
        assert!(p.check(10_000, (4, Some(0)), (0, None)).is_ok());
        let wait = p.check(60_000, (5, Some(0)), (0, None)).unwrap_err();
        assert_eq!(wait, 15 * 60 - 60);
        assert!(p.check(0, (0, None), (20, Some(0))).is_err());
    }
}
