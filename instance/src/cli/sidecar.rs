//! Files written beside an import's input (`users.json` → `users.json.rejected.jsonl`).

use std::path::{Path, PathBuf};

/// `file` with `suffix` appended to its name.
pub(super) fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
