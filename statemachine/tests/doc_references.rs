//! Every protocol section and design note that a comment in the workspace cites must exist
//! as a heading in `docs/protocol.md` or `docs/design.md`, so a reader of the repository
//! can follow each reference without the external spec it was first written from.
//!
//! A citation is the section sign followed by a number (`N` or `N.M`), or the words
//! "design note" followed by a number. This file writes neither literally: the checker
//! walks it too, and the made-up citations of its own tests are built at run time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SECTION_SIGN: char = '\u{a7}';
const DESIGN_NOTE: &str = "design note";

/// What a piece of text refers to: a protocol section ("3.3") or a design note number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reference {
    Section(String),
    DesignNote(u32),
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Section(number) => write!(f, "{SECTION_SIGN}{number}"),
            Reference::DesignNote(number) => write!(f, "{DESIGN_NOTE} {number}"),
        }
    }
}

/// The leading digits of `text`, if any.
fn digits(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// The section numbers cited in `text`: the section sign, digits, and at most one `.digits`
/// (so a sentence-ending period after "7.1" is not part of the number).
fn sections(text: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(SECTION_SIGN) {
        let rest = &text[at + SECTION_SIGN.len_utf8()..];
        let Some(major) = digits(rest) else { continue };
        let after = &rest[major.len()..];
        let number = match after.strip_prefix('.').and_then(digits) {
            Some(minor) => format!("{major}.{minor}"),
            None => major.to_string(),
        };
        found.push(Reference::Section(number));
    }
    found
}

/// The design notes cited in `text`, in any letter case ("Design note 4", "design note 4").
fn design_notes(text: &str) -> Vec<Reference> {
    let lower = text.to_lowercase();
    lower
        .match_indices(DESIGN_NOTE)
        .filter_map(|(at, _)| {
            let rest = lower[at + DESIGN_NOTE.len()..].trim_start_matches(' ');
            digits(rest).and_then(|n| n.parse().ok()).map(Reference::DesignNote)
        })
        .collect()
}

fn references(text: &str) -> Vec<Reference> {
    let mut found = sections(text);
    found.extend(design_notes(text));
    found
}

/// What the Markdown headings (lines starting with `#`) of `markdown` make citable.
fn heading_anchors(markdown: &str) -> BTreeSet<Reference> {
    let mut in_code = false;
    let mut anchors = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code && line.starts_with('#') {
            anchors.extend(references(line));
        }
    }
    anchors
}

/// A citation in a source file that no heading answers.
#[derive(Debug, PartialEq, Eq)]
struct Unresolved {
    file: PathBuf,
    line: usize,
    reference: Reference,
}

fn unresolved_in(file: &Path, source: &str, anchors: &BTreeSet<Reference>) -> Vec<Unresolved> {
    let mut missing = Vec::new();
    for (index, line) in source.lines().enumerate() {
        for reference in references(line) {
            if !anchors.contains(&reference) {
                missing.push(Unresolved { file: file.to_path_buf(), line: index + 1, reference });
            }
        }
    }
    missing
}

/// The `.rs` files of the workspace, leaving out build output and hidden folders.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, files);
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate lives in the workspace").to_path_buf()
}

#[test]
fn every_cited_section_and_design_note_is_a_heading_of_the_docs() {
    let root = workspace_root();
    let mut anchors = BTreeSet::new();
    for doc in ["docs/protocol.md", "docs/design.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap_or_else(|e| panic!("cannot read {doc}: {e}"));
        anchors.extend(heading_anchors(&text));
    }
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 50, "the walk found only {} Rust files under {}", files.len(), root.display());
    let mut cited = 0;
    let mut missing = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        cited += source.lines().map(|line| references(line).len()).sum::<usize>();
        missing.extend(unresolved_in(file.strip_prefix(&root).unwrap_or(file), &source, &anchors));
    }
    assert!(cited > 50, "only {cited} citations found: is the walk looking in the right place?");
    let report: Vec<String> =
        missing.iter().map(|m| format!("{}:{}: {} has no heading", m.file.display(), m.line, m.reference)).collect();
    assert!(report.is_empty(), "citations without a heading in docs/:\n{}", report.join("\n"));
}

#[test]
fn citations_are_read_with_their_subsection_and_without_trailing_punctuation() {
    let s = SECTION_SIGN;
    let text = format!("see {s}1.3 steps 3-4, ({s}6). and {s}7.1. Also Design note 7 and {DESIGN_NOTE} 12; {s}x");
    assert_eq!(
        references(&text),
        vec![
            Reference::Section("1.3".into()),
            Reference::Section("6".into()),
            Reference::Section("7.1".into()),
            Reference::DesignNote(7),
            Reference::DesignNote(12),
        ]
    );
}

#[test]
fn a_citation_without_a_heading_is_reported_and_one_with_a_heading_is_not() {
    let s = SECTION_SIGN;
    let docs = format!(
        "# Protocol\n## {s}3 Roles\n### {s}3.3 Executor lifecycle\n```\n## {s}9 inside a code block\n```\n\
         mentions {s}4 in prose only\n## Design note 2: authentication\n"
    );
    let anchors = heading_anchors(&docs);
    let source = format!(
        "// {s}3.3 and {s}3 resolve\n// {s}3.4 does not\n// neither do {s}9 (code block) nor {s}4 (prose)\n\
         // {DESIGN_NOTE} 2 resolves, {DESIGN_NOTE} 3 does not\n"
    );
    let missing: Vec<(usize, Reference)> =
        unresolved_in(Path::new("made_up.rs"), &source, &anchors).into_iter().map(|m| (m.line, m.reference)).collect();
    assert_eq!(
        missing,
        vec![
            (2, Reference::Section("3.4".into())),
            (3, Reference::Section("9".into())),
            (3, Reference::Section("4".into())),
            (4, Reference::DesignNote(3)),
        ]
    );
}
