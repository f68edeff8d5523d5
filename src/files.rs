//! Output files: written through a temporary file beside the target and renamed into place
//! only when complete (`stage` + `commit`), removed on Ctrl-C; and the SHA-256 of inputs.

use std::io::Write;

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `path` through a temporary file in the same folder, renamed into place only when
/// `write` succeeded: a failed run never leaves a half-written file, and an existing file is
/// replaced only by a complete one.
///
/// # Errors
/// [`Error::Io`] when the temporary file cannot be created, written or renamed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    commit(vec![stage(path, write)?])
}

/// A complete output file waiting beside its target in a temporary file; [`commit`] renames it
/// into place. Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    tmp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl Staged {
    /// The file this will become.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            register_temporary(tmp.path(), false);
        }
    }
}

/// Writes the content of `path` into a temporary file in the same folder (with the permissions
/// of the file it will replace, or 0644) and keeps it for [`commit`].
///
/// # Errors
/// [`Error::Io`] when the temporary file cannot be created or written.
pub fn stage(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<Staged> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".gep-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, e))?;
    register_temporary(tmp.path(), true);
    // From here the temporary file is owned by a Staged: dropped on an error, it unregisters.
    let mut staged = Staged {
        tmp: Some(tmp),
        path: path.to_path_buf(),
    };
    if let Some(tmp) = staged.tmp.as_mut() {
        fill(tmp, path, write)?;
    }
    Ok(staged)
}

fn fill(
    tmp: &mut tempfile::NamedTempFile,
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    write(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    // Test hook (debug builds only): hold the temporary file open so that an interrupt can be tested.
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("GEP_TEST_SLOW_WRITE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    tmp.as_file_mut().flush().map_err(|e| Error::io(path, e))?;
    // tempfile creates 0600; give the result the permissions of the file it replaces, or 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Renames every staged file into place, in order. Called only when every output of a run was
/// staged, so that a failed run writes nothing.
///
/// # Errors
/// [`Error::Io`] when a rename fails (the files not yet placed are removed).
pub fn commit(staged: Vec<Staged>) -> Result<()> {
    for mut file in staged {
        if let Some(tmp) = file.tmp.take() {
            let tmp_path = tmp.path().to_path_buf();
            let placed = tmp.persist(&file.path);
            register_temporary(&tmp_path, false);
            placed.map_err(|e| Error::io(&file.path, e.error))?;
        }
    }
    Ok(())
}

/// Temporary files being written, removed by the interrupt handler.
static TEMPORARY_FILES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn register_temporary(path: &Path, add: bool) {
    if let Ok(mut files) = TEMPORARY_FILES.lock() {
        if add {
            files.push(path.to_path_buf());
        } else {
            files.retain(|p| p != path);
        }
    }
}

/// Installs a Ctrl-C handler that removes the temporary files of writes in progress and exits
/// with code 130: an interrupted run leaves neither a partial book nor a temporary file.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(files) = TEMPORARY_FILES.lock() {
            for f in files.iter() {
                let _ = std::fs::remove_file(f);
            }
        }
        eprintln!("interrupted: nothing was written");
        std::process::exit(130);
    });
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
