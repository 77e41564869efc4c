//! Edits to config.json made through the API, written back atomically.
//!
//! Edits apply to the raw document as the user wrote it — `${VAR}` placeholders, `_comment`
//! and unknown fields, key order and every other project stay exactly as they were — and the
//! result is validated before anything touches the disk.

use std::io::Write;
use std::path::Path;

use balance_alert_model::Decimal;
use serde_json::{Map, Value};

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The named entry does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The entry already exists.
    #[error("{0}")]
    Conflict(String),
    /// The edit would make the configuration invalid.
    #[error("{0}")]
    Invalid(String),
    /// The configuration is not file-backed (env-only mode).
    #[error("configuration comes from environment variables (USE_ENV_CONFIG=true); edits cannot be saved — change the variables instead")]
    NotFileBacked,
    /// The file (or the directory it lives in) cannot be written: nothing was changed.
    #[error("the config file {path} is read-only ({reason}); nothing was changed. Make it and its directory writable by the server, or edit it at its source (e.g. the ConfigMap) instead")]
    ReadOnly { path: String, reason: String },
    /// Writing the file failed.
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
    /// The edited document would be over the size limit: nothing was changed.
    #[error("the edit would make the config {size} bytes, over the {limit}-byte limit; nothing was changed. Remove or shorten entries first")]
    TooLarge { size: u64, limit: u64 },
}

impl From<super::ConfigError> for EditError {
    /// An edited document that does not validate: every problem, named, in one message.
    fn from(e: super::ConfigError) -> Self {
        match e {
            super::ConfigError::Invalid(problems) => EditError::Invalid(
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => EditError::Invalid(other.to_string()),
        }
    }
}

fn list_mut<'a>(raw: &'a mut Value, key: &str) -> Result<&'a mut Vec<Value>, EditError> {
    let root = raw
        .as_object_mut()
        .ok_or_else(|| EditError::Invalid("config root is not an object".into()))?;
    let list = root.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if list.is_null() {
        *list = Value::Array(Vec::new());
    }
    list.as_array_mut()
        .ok_or_else(|| EditError::Invalid(format!("{key} is not a list")))
}

/// Text that arrived through the API, as the file must hold it: `${` becomes `$${`, which the
/// loader reads back as a literal `${`. An API value can never name an environment variable
/// (`"name": "leak-${WEB_API_KEY}"` would otherwise read the server's secrets).
pub fn literal(text: &str) -> String {
    text.replace("${", "$${")
}

/// Makes every string in `fields` literal (see [`literal`]).
fn literal_fields(fields: &mut Map<String, Value>) {
    for v in fields.values_mut() {
        if let Value::String(s) = v {
            *s = literal(s);
        }
    }
}

/// The entry whose name is `name` as the API shows it (stored literally).
fn find_named<'a>(list: &'a mut [Value], name: &str) -> Option<&'a mut Map<String, Value>> {
    let stored = literal(name);
    list.iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|o| o.get("name").and_then(Value::as_str) == Some(stored.as_str()))
}

/// Sets the threshold of the project `provider:name` (names are unique per provider only, so
/// the provider is part of the identity).
pub fn set_threshold(
    raw: &mut Value,
    provider: &str,
    name: &str,
    threshold: Decimal,
) -> Result<(), EditError> {
    set_project_fields(
        raw,
        provider,
        name,
        vec![("threshold".into(), crate::money::to_json(threshold))],
    )
}

/// Sets fields of the project `provider:name` (a manual project's recorded `balance` and
/// `balance_date`, …), every other field kept.
pub fn set_project_fields(
    raw: &mut Value,
    provider: &str,
    name: &str,
    fields: Vec<(String, Value)>,
) -> Result<(), EditError> {
    let projects = list_mut(raw, "projects")?;
    let p = projects
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|o| {
            o.get("name").and_then(Value::as_str) == Some(literal(name).as_str())
                && o.get("provider")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case(provider))
        })
        .ok_or_else(|| EditError::NotFound(format!("no project {provider}:{name} in the file")))?;
    for (k, v) in fields {
        p.insert(k, v);
    }
    Ok(())
}

/// Appends a subscription; its name must be new.
pub fn add_subscription(raw: &mut Value, mut sub: Map<String, Value>) -> Result<(), EditError> {
    let name = sub
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let subs = list_mut(raw, "subscriptions")?;
    if find_named(subs, &name).is_some() {
        return Err(EditError::Conflict(format!(
            "a subscription named {name:?} already exists"
        )));
    }
    literal_fields(&mut sub);
    subs.push(Value::Object(sub));
    Ok(())
}

/// Merges `fields` into the named subscription (a `new_name` field renames it).
pub fn update_subscription(
    raw: &mut Value,
    name: &str,
    mut fields: Map<String, Value>,
) -> Result<(), EditError> {
    let subs = list_mut(raw, "subscriptions")?;
    if let Some(new_name) = fields.remove("new_name") {
        let new = new_name.as_str().unwrap_or_default().to_owned();
        if new != name && find_named(subs, &new).is_some() {
            return Err(EditError::Conflict(format!(
                "a subscription named {new:?} already exists"
            )));
        }
        fields.insert("name".into(), Value::String(new));
    }
    literal_fields(&mut fields);
    let sub = find_named(subs, name)
        .ok_or_else(|| EditError::NotFound(format!("no subscription named {name:?}")))?;
    for (k, v) in fields {
        if v.is_null() {
            sub.remove(&k);
        } else {
            sub.insert(k, v);
        }
    }
    Ok(())
}

/// Removes the named subscription.
pub fn delete_subscription(raw: &mut Value, name: &str) -> Result<(), EditError> {
    let subs = list_mut(raw, "subscriptions")?;
    let before = subs.len();
    let stored = literal(name);
    subs.retain(|s| s.get("name").and_then(Value::as_str) != Some(stored.as_str()));
    if subs.len() == before {
        return Err(EditError::NotFound(format!(
            "no subscription named {name:?}"
        )));
    }
    Ok(())
}

/// Writes `doc` to the file `path` names, atomically: a temp file beside the *resolved*
/// target, fsync, rename onto it. A crash leaves the old file or the new one, never half.
///
/// A symlinked config (`config.json → ..data/config.json`, as a Kubernetes ConfigMap mounts
/// it) is written through to its target, keeping the link, so later updates of the target
/// still reach us. A target without write permission (mode bits, a read-only mount) is
/// [`EditError::ReadOnly`] and nothing is touched. Returns the text written.
pub fn save_atomic(path: &Path, doc: &Value) -> Result<String, EditError> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        // A dangling link (a ConfigMap mid-swap, a removed target) must stay a link: writing
        // a plain file over it would stop every later update from reaching us.
        Err(e) if is_link => {
            return Err(EditError::ReadOnly {
                path: path.display().to_string(),
                reason: format!("it is a symbolic link whose target cannot be resolved ({e})"),
            })
        }
        Err(_) => path.to_owned(),
    };
    let shown = target.display().to_string();
    let io = |e: std::io::Error| EditError::Io {
        path: shown.clone(),
        message: e.to_string(),
    };
    let read_only = |reason: String| EditError::ReadOnly {
        path: shown.clone(),
        reason,
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let meta = std::fs::metadata(&target).ok();
    // Honour the mode bits even where the OS would not (root ignores them): a file or
    // directory with no write bit at all was made read-only on purpose.
    if meta.as_ref().is_some_and(|m| m.permissions().readonly()) {
        return Err(read_only("the file has no write permission".into()));
    }
    if std::fs::metadata(&dir).is_ok_and(|m| m.permissions().readonly()) {
        return Err(read_only(format!(
            "its directory {} has no write permission",
            dir.display()
        )));
    }
    let mut text =
        serde_json::to_string_pretty(doc).map_err(|e| EditError::Invalid(e.to_string()))?;
    text.push('\n');
    let file_name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("config.json");
    let (tmp, mut f) = match create_temp(&dir, file_name) {
        Ok(created) => created,
        Err(e) if is_read_only_error(&e) => return Err(read_only(e.to_string())),
        Err(e) => return Err(io(e)),
    };
    let result = (|| {
        if let Some(meta) = &meta {
            // Keep the original owner, group and permissions: the file holds secrets and may
            // be 0600, and a server run as root must not take a user's file away from them.
            keep_owner(&f, meta);
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(if is_read_only_error(&e) {
            read_only(e.to_string())
        } else {
            io(e)
        });
    }
    Ok(text)
}

/// A new temp file beside the target, `.<name>.tmp-<random>`, created exclusively (O_EXCL:
/// never an existing file, never through a symbolic link someone planted) and private (0600)
/// until the target's mode is copied onto it.
fn create_temp(
    dir: &Path,
    file_name: &str,
) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    use rand::Rng;
    let mut last = None;
    for _ in 0..16 {
        let suffix: u64 = rand::rng().random();
        let tmp = dir.join(format!(".{file_name}.tmp-{suffix:016x}"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temp name")))
}

/// Gives `f` the owner and group of the file it replaces (best effort: only root may give a
/// file away; a member of the group may still keep the group).
#[cfg(unix)]
fn keep_owner(f: &std::fs::File, meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let Ok(ours) = f.metadata() else { return };
    if (ours.uid(), ours.gid()) == (meta.uid(), meta.gid()) {
        return;
    }
    if std::os::unix::fs::fchown(f, Some(meta.uid()), Some(meta.gid())).is_err()
        && std::os::unix::fs::fchown(f, None, Some(meta.gid())).is_err()
    {
        tracing::warn!(
            uid = meta.uid(),
            gid = meta.gid(),
            "the saved config keeps this process's owner: only root can give a file to its previous owner"
        );
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &std::fs::File, _: &std::fs::Metadata) {}

fn is_read_only_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    ) || e.raw_os_error() == Some(30) // EROFS on older kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[cfg(unix)]
    #[test]
    fn a_planted_temp_file_or_link_is_never_written_through() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("config.json");
        std::fs::write(&target, "{}").expect("write");
        // A local user pre-creates the names a writer might use: the old fixed one as a link
        // to a file of theirs, and a plain file.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "theirs").expect("victim");
        let fixed = dir
            .path()
            .join(format!(".config.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &fixed).expect("link");
        save_atomic(&target, &json!({"projects": []})).expect("save");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "theirs");
        assert!(std::fs::symlink_metadata(&fixed)
            .expect("link")
            .file_type()
            .is_symlink());
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&target).expect("read")).expect("json");
        assert_eq!(saved, json!({"projects": []}));
        // Exclusive creation: an existing name is refused, never opened.
        let (tmp, _) = create_temp(dir.path(), "config.json").expect("temp");
        let again = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp);
        assert_eq!(
            again.expect_err("exists").kind(),
            std::io::ErrorKind::AlreadyExists
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_saved_config_keeps_its_owner_group_and_mode() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("config.json");
        std::fs::write(&target, "{}").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let ours = std::fs::metadata(&target).expect("meta");
        // As root (CI), hand the file to nobody first: the save must give it back to nobody,
        // not to root. As anyone else the owner is ours and must stay so.
        let owner = if ours.uid() == 0 {
            (65534, 65534)
        } else {
            (ours.uid(), ours.gid())
        };
        std::os::unix::fs::chown(&target, Some(owner.0), Some(owner.1)).expect("chown");
        save_atomic(&target, &json!({"a": 1})).expect("save");
        let after = std::fs::metadata(&target).expect("meta");
        assert_eq!((after.uid(), after.gid()), owner);
        assert_eq!(after.permissions().mode() & 0o777, 0o640);
    }

    #[test]
    fn threshold_edit_touches_only_that_field() {
        let mut raw = json!({"projects": [
            {"name": "a", "provider": "openrouter", "api_key": "${KEY_A}", "threshold": 1, "_comment": "keep me"},
            {"name": "b", "provider": "openrouter", "api_key": "${KEY_B}", "threshold": 2}
        ]});
        set_threshold(&mut raw, "openrouter", "b", Decimal::new(75, 1)).expect("edit");
        assert_eq!(raw["projects"][1]["threshold"], 7.5);
        assert_eq!(
            raw["projects"][0],
            json!({"name": "a", "provider": "openrouter", "api_key": "${KEY_A}", "threshold": 1, "_comment": "keep me"})
        );
        assert!(matches!(
            set_threshold(&mut raw, "openrouter", "zz", Decimal::ONE),
            Err(EditError::NotFound(_))
        ));
    }

    #[test]
    fn a_dangling_symlink_is_refused_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json");
        std::os::unix::fs::symlink("..data/config.json", &path).expect("link");
        let err = save_atomic(&path, &json!({"projects": []})).expect_err("refused");
        assert!(matches!(err, EditError::ReadOnly { .. }), "{err}");
        assert!(std::fs::symlink_metadata(&path)
            .expect("meta")
            .file_type()
            .is_symlink());
    }

    #[test]
    fn threshold_edit_picks_the_project_of_the_named_provider() {
        let mut raw = json!({"projects": [
            {"name": "Main", "provider": "openrouter", "api_key": "k", "threshold": 1},
            {"name": "Main", "provider": "DeepSeek", "api_key": "k", "threshold": 2}
        ]});
        set_threshold(&mut raw, "deepseek", "Main", Decimal::from(9)).expect("edit");
        assert_eq!(raw["projects"][0]["threshold"], 1);
        assert_eq!(raw["projects"][1]["threshold"], 9);
    }

    #[test]
    fn subscriptions_add_update_rename_delete() {
        let mut raw = json!({"projects": []});
        let sub = json!({"name": "s", "cycle_type": "monthly", "renewal_day": 3});
        add_subscription(&mut raw, sub.as_object().cloned().expect("object")).expect("add");
        assert!(matches!(
            add_subscription(&mut raw, sub.as_object().cloned().expect("object")),
            Err(EditError::Conflict(_))
        ));
        let fields = json!({"renewal_day": 9, "new_name": "t"})
            .as_object()
            .cloned()
            .expect("object");
        update_subscription(&mut raw, "s", fields).expect("update");
        assert_eq!(
            raw["subscriptions"][0],
            json!({"name": "t", "cycle_type": "monthly", "renewal_day": 9})
        );
        delete_subscription(&mut raw, "t").expect("delete");
        assert_eq!(raw["subscriptions"], json!([]));
    }

    #[test]
    fn atomic_save_replaces_the_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{}").expect("write");
        save_atomic(&path, &json!({"z": 1, "a": 2})).expect("save");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "{\n  \"z\": 1,\n  \"a\": 2\n}\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
