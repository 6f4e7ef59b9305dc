//! The binary's local commands, run as a user would.

use std::process::Command;

fn colonies(args: &[&str]) -> (bool, String, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_colonies")).args(args).env_remove("COLONIES_PRVKEY").output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn security_id_prints_the_id_of_a_key() {
    let (ok, out, _) =
        colonies(&["security", "id", "--prvkey", "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"]);
    assert!(ok);
    assert_eq!(out.trim(), "Id=039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103");
}

#[test]
fn a_bad_key_is_explained_and_fails() {
    let (ok, _, err) = colonies(&["security", "id", "--prvkey", "abcd"]);
    assert!(!ok);
    assert!(err.contains("Invalid private key length, should be 256 bits"), "{err}");
}

#[test]
fn generate_prints_a_key_whose_id_matches() {
    let (ok, out, _) = colonies(&["security", "generate"]);
    assert!(ok);
    let id = out.lines().find_map(|l| l.strip_prefix("Id=")).unwrap();
    let key = out.lines().find_map(|l| l.strip_prefix("PrvKey=")).unwrap();
    let (_, again, _) = colonies(&["security", "id", "--prvkey", key]);
    assert_eq!(again.trim(), format!("Id={id}"));
}

#[test]
fn version_names_the_crate_version() {
    let (ok, out, _) = colonies(&["version"]);
    assert!(ok && out.contains(env!("CARGO_PKG_VERSION")));
}
