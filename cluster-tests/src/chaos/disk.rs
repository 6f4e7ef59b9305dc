//! A small disk that the test can fill: a tmpfs mounted on a temporary folder, filled with
//! `dd` and freed again, unmounted on drop (also when a test panics).

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("`mount -t tmpfs` failed: {0}")]
    Mount(String),
}

pub struct Tmpfs {
    mountpoint: PathBuf,
    mounted: bool,
    // Fields drop after `Drop::drop` ran, so the folder goes once the tmpfs is unmounted.
    _dir: tempfile::TempDir,
}

const FILL: &str = "fill";

impl Tmpfs {
    pub fn mount(size_mib: u64) -> Result<Tmpfs, DiskError> {
        let dir = tempfile::tempdir()?;
        let mountpoint = dir.path().join("disk");
        std::fs::create_dir(&mountpoint)?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&mountpoint)
            .output()?;
        if !output.status.success() {
            return Err(DiskError::Mount(String::from_utf8_lossy(&output.stderr).trim().to_string()));
        }
        Ok(Tmpfs { mountpoint, mounted: true, _dir: dir })
    }

    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// Fills every free byte; returns how many MiB `dd` wrote before the disk was full.
    pub fn fill(&self) -> Result<u64, DiskError> {
        // dd ends with "No space left on device" (and a failure status): that is the point.
        let output = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.mountpoint.join(FILL).display()))
            .args(["bs=1M", "status=none"])
            .output()?;
        let written = std::fs::metadata(self.mountpoint.join(FILL))?.len();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() && !stderr.contains("No space left") {
            return Err(DiskError::Io(std::io::Error::other(stderr.trim().to_string())));
        }
        Ok(written >> 20)
    }

    pub fn free(&self) -> Result<(), DiskError> {
        match std::fs::remove_file(self.mountpoint.join(FILL)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if !self.mounted {
            return;
        }
        let unmount = |lazy: bool| {
            let mut command = Command::new("umount");
            if lazy {
                command.arg("-l");
            }
            command.arg(&self.mountpoint).status().is_ok_and(|s| s.success())
        };
        // A process that still has a file open keeps it busy: detach it then, it goes away
        // with the last user.
        if !unmount(false) && !unmount(true) {
            eprintln!("chaos: could not unmount {}", self.mountpoint.display());
        }
        self.mounted = false;
    }
}
