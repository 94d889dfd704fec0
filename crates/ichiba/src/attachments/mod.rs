//! Attachments: files uploaded by a user (20 MB at most, office/PDF/image/archive/media types),
//! stored content-addressed under the data directory, and served only to their owner or to a
//! member of a thread where they were attached. Attachments are not scanned by the contact guard:
//! they are the sanctioned channel for work files.

pub mod http;
pub mod store;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::clock::Millis;
use crate::db::{Db, new_id};
use crate::error::AppError;

/// Largest file accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// File extensions accepted, with the MIME type they are served as.
const TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("svg", "image/svg+xml"),
    ("ai", "application/postscript"),
    ("psd", "image/vnd.adobe.photoshop"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("csv", "text/csv"),
    ("txt", "text/plain"),
    ("zip", "application/zip"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
];

/// The MIME type for a file name, if its extension is accepted.
pub fn content_type_for(filename: &str) -> Option<&'static str> {
    let ext = Path::new(filename)
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    TYPES.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
}

/// An uploaded file as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Id to pass in `attachment_ids`.
    pub id: String,
    /// Original file name.
    pub filename: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// MIME type.
    pub content_type: String,
}

fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".to_string()
    } else {
        cleaned
    }
}

fn blob_path(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("attachments").join(&sha256[..2]).join(sha256)
}

/// Stores an upload. Errors: 422 for an empty file or a type that is not accepted; 413 beyond
/// [`MAX_BYTES`].
pub async fn save(
    db: &Db,
    data_dir: &Path,
    owner_id: &str,
    filename: &str,
    bytes: &[u8],
    now: Millis,
) -> Result<AttachmentView, AppError> {
    let filename = sanitize_filename(filename);
    let rule = |code, message: &str| AppError::Rule {
        code,
        message: message.into(),
        details: serde_json::json!({}),
    };
    if bytes.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    if bytes.is_empty() {
        return Err(rule("empty_file", "空のファイルはアップロードできません。"));
    }
    let content_type = content_type_for(&filename).ok_or_else(|| {
        rule(
            "unsupported_file_type",
            "このファイル形式はアップロードできません（PDF・画像・Office文書・zip・音声・動画に対応しています）。",
        )
    })?;
    let sha = hex::encode(Sha256::digest(bytes));
    let path = blob_path(data_dir, &sha);
    if tokio::fs::metadata(&path).await.is_err() {
        let dir = path
            .parent()
            .ok_or_else(|| AppError::internal("attachment path has no parent"))?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(AppError::internal)?;
        // Write to a unique temporary name, then rename: a reader never sees half a file.
        let tmp = dir.join(format!(".{}.tmp", new_id()));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(AppError::internal)?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(AppError::internal)?;
    }
    let row = store::AttachmentRow {
        id: new_id(),
        owner_id: owner_id.to_string(),
        sha256: sha,
        filename,
        content_type: content_type.to_string(),
        size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        created_at_ms: now,
    };
    let mut tx = db.begin().await?;
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(AttachmentView {
        id: row.id,
        filename: row.filename,
        size_bytes: row.size_bytes,
        content_type: row.content_type,
    })
}

/// The attachment and its bytes, if `user_id` may see it (else 404).
pub async fn open(
    db: &Db,
    data_dir: &Path,
    user_id: &str,
    id: &str,
) -> Result<(store::AttachmentRow, Vec<u8>), AppError> {
    let mut conn = db.pool().acquire().await?;
    let row = store::by_id(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.owner_id != user_id && !store::shared_with(&mut conn, id, user_id).await? {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(blob_path(data_dir, &row.sha256))
        .await
        .map_err(AppError::internal)?;
    Ok((row, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_work_file_types_are_accepted() {
        assert_eq!(content_type_for("ロゴ案.PDF"), Some("application/pdf"));
        assert_eq!(
            content_type_for("a.xlsx").map(|t| t.contains("spreadsheet")),
            Some(true)
        );
        assert_eq!(content_type_for("setup.exe"), None);
        assert_eq!(content_type_for("noext"), None);
    }

    #[test]
    fn file_names_lose_their_directories() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\x\\納品.zip"), "納品.zip");
        assert_eq!(sanitize_filename(""), "file");
    }
}
