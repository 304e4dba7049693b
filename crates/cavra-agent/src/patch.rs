//! Codex `apply_patch` envelopes: which files a patch adds, changes, moves
//! or deletes.
//!
//! ```text
//! *** Begin Patch
//! *** Add File: path
//! +line
//! *** Update File: path
//! *** Move to: new/path
//! @@ …
//! *** Delete File: path
//! *** End Patch
//! ```

/// What a patch does to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileChange {
    Add(String),
    Update(String),
    Delete(String),
    /// `Update File` followed by `Move to`: both paths are written.
    Move {
        from: String,
        to: String,
    },
}

impl FileChange {
    /// Every path the change writes (a move writes both).
    pub fn paths(&self) -> Vec<&str> {
        match self {
            FileChange::Add(p) | FileChange::Update(p) | FileChange::Delete(p) => vec![p],
            FileChange::Move { from, to } => vec![from, to],
        }
    }
}

/// Parses the file headers of a patch. Errors name the line.
///
/// Headers are recognised on the trimmed line, wherever they appear after
/// `*** Begin Patch` (Codex trims them too), and reading does not stop at
/// the first `*** End Patch`: a header that Codex might act on is never
/// skipped, at the price of counting a header-like context line as a file.
pub fn parse(text: &str) -> Result<Vec<FileChange>, String> {
    let lines = text.lines().map(|l| l.trim_end_matches('\r')).enumerate();
    let mut began = false;
    let mut ended = false;
    let mut out: Vec<FileChange> = Vec::new();
    for (no, line) in lines {
        let no = no + 1;
        let t = line.trim();
        if !began {
            if t.is_empty() || t.starts_with("<<") || t.starts_with("apply_patch") {
                continue;
            }
            if t == "*** Begin Patch" {
                began = true;
                continue;
            }
            return Err(format!(
                "line {no}: expected `*** Begin Patch`, found {:?}",
                clip(line)
            ));
        }
        if t == "*** End Patch" {
            ended = true;
            continue;
        }
        let header = |prefix: &str| {
            t.strip_prefix(prefix)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
        };
        if let Some(p) = header("*** Add File:") {
            out.push(FileChange::Add(p));
        } else if let Some(p) = header("*** Update File:") {
            out.push(FileChange::Update(p));
        } else if let Some(p) = header("*** Delete File:") {
            out.push(FileChange::Delete(p));
        } else if let Some(to) = header("*** Move to:") {
            match out.pop() {
                Some(FileChange::Update(from)) => out.push(FileChange::Move { from, to }),
                Some(other) => {
                    // Not where Codex expects it: keep both paths.
                    out.push(other);
                    out.push(FileChange::Add(to));
                }
                None => {
                    return Err(format!(
                        "line {no}: `*** Move to:` must follow `*** Update File:`"
                    ));
                }
            }
        } else if t.starts_with("***")
            && !t.starts_with("*** End of File")
            && !t.starts_with("*** Begin Patch")
            && !(t.chars().all(|c| c == '*'))
            && line.starts_with("***")
        {
            return Err(format!("line {no}: unknown patch header {:?}", clip(line)));
        } else if out.is_empty() && !t.is_empty() && !ended {
            return Err(format!(
                "line {no}: patch content before any file header: {:?}",
                clip(line)
            ));
        }
    }
    if !began {
        return Err("the patch has no `*** Begin Patch` line".into());
    }
    if !ended {
        return Err("the patch has no `*** End Patch` line (truncated?)".into());
    }
    if out.is_empty() {
        return Err("the patch changes no file".into());
    }
    Ok(out)
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn every_kind_of_change() {
        let p = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** Update File: src/x.rs\n@@ fn x\n-a\n+b\n*** Update File: old.rs\n*** Move to: new.rs\n@@\n-x\n+y\n*** Delete File: gone.txt\n*** End Patch\n";
        assert_eq!(
            parse(p).unwrap(),
            vec![
                FileChange::Add("a.txt".into()),
                FileChange::Update("src/x.rs".into()),
                FileChange::Move {
                    from: "old.rs".into(),
                    to: "new.rs".into()
                },
                FileChange::Delete("gone.txt".into()),
            ]
        );
    }

    #[test]
    fn heredoc_wrapper_is_accepted() {
        let p = "apply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: .env\n*** End Patch\nEOF\n";
        assert_eq!(parse(p).unwrap(), vec![FileChange::Delete(".env".into())]);
    }

    #[test]
    fn indented_headers_and_early_end_markers_do_not_hide_files() {
        // Codex trims header lines: an indented header still adds `.env`.
        let p = "*** Begin Patch\n*** Delete File: tmp\n *** Add File: .env\n+X\n*** End Patch\n";
        assert_eq!(
            parse(p).unwrap(),
            vec![
                FileChange::Delete("tmp".into()),
                FileChange::Add(".env".into())
            ]
        );
        // A context line that looks like the end marker does not stop reading.
        let p = "*** Begin Patch\n*** Update File: a.rs\n@@\n *** End Patch\n*** Add File: .github/workflows/x.yml\n+x\n*** End Patch\n";
        let got = parse(p).unwrap();
        assert!(
            got.contains(&FileChange::Add(".github/workflows/x.yml".into())),
            "{got:?}"
        );
    }

    #[test]
    fn malformed_patches_name_the_line() {
        assert!(parse("").unwrap_err().contains("no `*** Begin Patch`"));
        assert!(
            parse("*** Begin Patch\n*** Add File: a\n+x\n")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            parse("*** Begin Patch\n*** Frob File: a\n*** End Patch")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(
            parse("*** Begin Patch\n*** Move to: b\n*** End Patch")
                .unwrap_err()
                .contains("must follow")
        );
        assert!(parse("hello").unwrap_err().contains("line 1"));
    }
}
