//! Files CAVRA writes beside the user's, opened and replaced the one way:
//! never through a symbolic link, only as regular files, and replaced
//! atomically. Stores, the hook spool, backups, agent settings and policy
//! signatures all write this way.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Opens `path` with `opts`, refusing a symbolic link at `path` (a
/// repository could ship `.cavra/api/activity.json.wal -> ~/.bashrc`) and
/// anything but a regular file. `O_NONBLOCK` keeps a planted FIFO from
/// blocking the open; it changes nothing for a regular file.
pub fn open_regular(path: &Path, opts: &mut OpenOptions) -> std::io::Result<File> {
    let f = opts
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other(format!(
                    "{} is a symbolic link; refusing to use it",
                    path.display()
                ))
            } else {
                e
            }
        })?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(f)
}

/// The permission bits of the file at `path`, or `default` when there is
/// none: a replaced file keeps what its owner gave it (a `chmod 600`).
pub fn existing_mode(path: &Path, default: u32) -> u32 {
    fs::metadata(path).map_or(default, |m| m.permissions().mode() & 0o7777)
}

/// Replaces `path` with `bytes`: a temporary sibling `PATH.tmp.PID` is
/// created fresh (whatever sat there, a crashed run's leftover or a planted
/// link, is removed; `create_new` never opens an existing file or follows a
/// link), written, fsynced and renamed over `path`, which replaces a link at
/// `path` rather than writing its target. `mode` is the creation mode,
/// applied exactly when `exact` (not masked by the umask). On failure the
/// temporary file is removed; the error names the file that failed.
pub fn replace_file(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    exact: bool,
) -> Result<(), (PathBuf, std::io::Error)> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        if exact {
            f.set_permissions(Permissions::from_mode(mode))?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err((tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        (path.to_path_buf(), e)
    })
}
