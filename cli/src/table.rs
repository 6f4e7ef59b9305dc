//! Plain-text tables. Cells come from the server and may hold anything another member of
//! the colony stored: a name of a megabyte, escape codes, bidirectional overrides. Each cell
//! is cut to `MAX_CELL_CHARS` and made printable, so no stored value can crash the CLI (a
//! width over 65,535 makes `format!` panic) or rewrite the reader's terminal.

/// The widest cell shown; `--json` prints values whole.
pub const MAX_CELL_CHARS: usize = 120;

/// Characters that would act on the terminal or reorder the text instead of printing.
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as one printable cell: unprintable characters escaped (`\u{1b}`), then cut to
/// `MAX_CELL_CHARS` with a trailing `…`.
pub fn cell(text: &str) -> String {
    let mut shown = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if unprintable(c) { c.escape_unicode().collect() } else { c.to_string() };
        let width = piece.chars().count();
        if count + width > MAX_CELL_CHARS {
            shown.push('…');
            return shown;
        }
        shown.push_str(&piece);
        count += width;
    }
    shown
}

/// The table as text: columns padded to their widest cell, two spaces apart.
pub fn render(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|c| cell(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut text = line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    text.push('\n');
    for row in &rows {
        text.push_str(&line(row));
        text.push('\n');
    }
    text
}

pub fn table(header: &[&str], rows: Vec<Vec<String>>) {
    print!("{}", render(header, rows));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_megabyte_name_prints_cut_instead_of_crashing() {
        let text = render(&["NAME", "TYPE"], vec![vec!["n".repeat(1 << 20), "cli".into()]]);
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with(&"n".repeat(MAX_CELL_CHARS)), "{row}");
        assert!(row.contains("…  cli"), "{row}");
        assert!(row.chars().count() < MAX_CELL_CHARS + 10);
    }

    #[test]
    fn escape_codes_and_overrides_are_shown_not_obeyed() {
        assert_eq!(cell("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(cell("x\r\ny\0"), "x\\u{d}\\u{a}y\\u{0}");
        assert_eq!(cell("gpj\u{202e}.exe"), "gpj\\u{202e}.exe");
        assert_eq!(cell("dev"), "dev");
    }

    #[test]
    fn columns_line_up() {
        let text = render(&["A", "B"], vec![vec!["long".into(), "x".into()], vec!["s".into(), "y".into()]]);
        assert_eq!(text, "A     B\nlong  x\ns     y\n");
    }
}
