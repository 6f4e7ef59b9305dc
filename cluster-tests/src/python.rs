//! ColonyOS's Python SDK for the tests that run it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python of the virtualenv `.ci/run` creates with the pinned requirements; created
/// here the same way when absent, so `cargo test --workspace` alone works on a fresh machine.
pub fn python_with_pycolonies() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let venv = target.join("pycolonies-venv");
    let python = venv.join("bin/python");
    let importable = |python: &Path| {
        Command::new(python).args(["-c", "import pycolonies"]).output().is_ok_and(|o| o.status.success())
    };
    if !importable(&python) {
        let created = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3 -m venv");
        assert!(created.success(), "creating {}", venv.display());
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/requirements.txt");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(&requirements)
            .status()
            .expect("pip install");
        assert!(installed.success() && importable(&python), "installing pycolonies into {}", venv.display());
    }
    python
}

/// The flows of `conformance/pycolonies_flows.py`, whose last line says how many passed.
pub const PYCOLONIES_FLOWS: usize = 18;

/// A script of `cluster-tests/conformance/`.
pub fn conformance_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance").join(name)
}
