//! Which files a simple command reads or writes: operands of well-known
//! readers and writers, and redirections.

use serde::Serialize;

use crate::SimpleCommand;

/// Reading or writing a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    Read,
    Write,
}

/// One file a command touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileAccess {
    pub mode: FileMode,
    pub path: String,
    /// False when the path is not statically known (`$F`, `$(…)`).
    pub literal: bool,
    /// The path holds unquoted glob characters.
    pub glob: bool,
    /// `redirect` or the command that takes the operand.
    pub via: String,
}

/// Options of readers that consume the following word.
fn value_opts(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "head" | "tail" => &[
            "-n",
            "-c",
            "--lines",
            "--bytes",
            "-s",
            "--sleep-interval",
            "--pid",
        ],
        "grep" | "egrep" | "fgrep" | "rg" => &[
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--after-context",
            "--before-context",
            "--include",
            "--exclude",
            "--exclude-dir",
            "-g",
            "--glob",
            "-t",
            "--type",
            "-T",
            "--type-not",
            "--color",
            "--colour",
        ],
        "awk" | "gawk" | "mawk" => &["-f", "-v", "-F", "--file", "--assign", "--field-separator"],
        "sed" => &["-e", "-f", "--expression", "--file", "-l", "--line-length"],
        "cp" | "mv" | "install" | "ln" => &[
            "-t",
            "--target-directory",
            "-S",
            "--suffix",
            "-m",
            "--mode",
            "-o",
            "--owner",
            "-g",
            "--group",
        ],
        "tee" => &[],
        "truncate" => &["-s", "--size", "-r", "--reference"],
        "sort" => &[
            "-o",
            "--output",
            "-k",
            "--key",
            "-t",
            "--field-separator",
            "-S",
            "--buffer-size",
            "-T",
            "--temporary-directory",
        ],
        "cut" => &[
            "-d",
            "-f",
            "-b",
            "-c",
            "--delimiter",
            "--fields",
            "--bytes",
            "--characters",
        ],
        "less" | "more" => &["-p", "--pattern", "-x", "--tabs"],
        "xxd" | "od" | "hexdump" => &["-l", "-s", "-c", "-g", "-n", "-j", "-t", "-A"],
        _ => &[],
    }
}

const READERS: &[&str] = &[
    "cat",
    "tac",
    "nl",
    "head",
    "tail",
    "less",
    "more",
    "bat",
    "batcat",
    "view",
    "od",
    "xxd",
    "hexdump",
    "strings",
    "base64",
    "base32",
    "wc",
    "sort",
    "uniq",
    "cut",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "file",
    "source",
    ".",
    "diff",
    "cmp",
    "jq",
    "yq",
    "column",
    "fold",
    "paste",
    "rev",
    "zcat",
    "bzcat",
    "xzcat",
    "gzip",
    "gunzip",
    "openssl",
    "scp",
    "rsync",
    "curl",
    "tar",
    "zip",
];

/// Whether `name` reads or writes the files it is given.
fn is_file_program(name: &str) -> bool {
    READERS.contains(&name)
        || WRITERS.contains(&name)
        || matches!(
            name,
            "cat"
                | "head"
                | "tail"
                | "less"
                | "more"
                | "grep"
                | "egrep"
                | "fgrep"
                | "rg"
                | "awk"
                | "gawk"
                | "mawk"
                | "sed"
                | "cp"
                | "mv"
                | "install"
                | "ln"
                | "dd"
                | "tee"
                | "jq"
                | "yq"
        )
}

const WRITERS: &[&str] = &[
    "rm", "unlink", "shred", "touch", "truncate", "tee", "mkdir", "rmdir", "chmod", "chown",
    "chgrp", "vi", "vim", "nvim", "nano", "emacs", "ed", "code",
];

/// Every file `cmd` reads or writes, as far as its command line tells.
pub fn file_accesses(cmd: &SimpleCommand) -> Vec<FileAccess> {
    let mut out: Vec<FileAccess> = cmd
        .redirects
        .iter()
        .map(|r| FileAccess {
            mode: r.mode,
            path: r.path.clone(),
            literal: r.literal,
            glob: !r.literal && !r.path.contains('$'),
            via: "redirect".into(),
        })
        .collect();
    let name = cmd.name();
    let args: Vec<&str> = cmd.argv.iter().skip(1).map(String::as_str).collect();
    let (operands, opt_values) = split_operands(&args, value_opts(name));
    let mk = |mode: FileMode, path: &str| FileAccess {
        mode,
        path: path.to_string(),
        literal: !path.contains("$(") && !path.contains("${"),
        glob: path.contains(['*', '?', '[']),
        via: name.to_string(),
    };
    match name {
        "grep" | "egrep" | "fgrep" | "rg" => {
            let explicit_pattern = opt_values
                .iter()
                .any(|(o, _)| matches!(*o, "-e" | "--regexp" | "-f" | "--file"));
            let files = if explicit_pattern {
                &operands[..]
            } else {
                operands.get(1..).unwrap_or(&[])
            };
            out.extend(files.iter().map(|p| mk(FileMode::Read, p)));
            out.extend(
                opt_values
                    .iter()
                    .filter(|(o, _)| matches!(*o, "-f" | "--file"))
                    .map(|(_, v)| mk(FileMode::Read, v)),
            );
        }
        "awk" | "gawk" | "mawk" => {
            let has_f = opt_values
                .iter()
                .any(|(o, _)| matches!(*o, "-f" | "--file"));
            let files = if has_f {
                &operands[..]
            } else {
                operands.get(1..).unwrap_or(&[])
            };
            out.extend(files.iter().map(|p| mk(FileMode::Read, p)));
            out.extend(
                opt_values
                    .iter()
                    .filter(|(o, _)| matches!(*o, "-f" | "--file"))
                    .map(|(_, v)| mk(FileMode::Read, v)),
            );
        }
        "sed" => {
            let has_script_opt = opt_values
                .iter()
                .any(|(o, _)| matches!(*o, "-e" | "--expression" | "-f" | "--file"));
            let files = if has_script_opt {
                &operands[..]
            } else {
                operands.get(1..).unwrap_or(&[])
            };
            let in_place = args.iter().any(|a| {
                *a == "-i"
                    || a.starts_with("--in-place")
                    || (a.starts_with("-i") && !a.starts_with("--"))
                    || (a.starts_with('-')
                        && !a.starts_with("--")
                        && a.contains('i')
                        && a.len() <= 4)
            });
            for p in files {
                out.push(mk(FileMode::Read, p));
                if in_place {
                    out.push(mk(FileMode::Write, p));
                }
            }
        }
        "cp" | "mv" | "install" | "ln" | "rsync" | "scp" => {
            let target = opt_values
                .iter()
                .find(|(o, _)| matches!(*o, "-t" | "--target-directory"))
                .map(|(_, v)| *v);
            let (sources, dest) = match target {
                Some(t) => (&operands[..], Some(t)),
                None => match operands.split_last() {
                    Some((last, rest)) => (rest, Some(*last)),
                    None => (&operands[..], None),
                },
            };
            let src_mode = if name == "mv" {
                FileMode::Write
            } else {
                FileMode::Read
            };
            out.extend(sources.iter().map(|p| mk(src_mode, p)));
            if name == "mv" {
                out.extend(sources.iter().map(|p| mk(FileMode::Read, p)));
            }
            if let Some(d) = dest {
                // `cp a /tmp/` writes `/tmp/a`, not the directory itself.
                if !d.ends_with('/') {
                    out.push(mk(FileMode::Write, d));
                }
                // Copying into a directory writes `dir/<basename of source>`.
                for s in sources {
                    let base = s.rsplit('/').next().unwrap_or(s);
                    out.push(mk(
                        FileMode::Write,
                        &format!("{}/{base}", d.trim_end_matches('/')),
                    ));
                }
            }
        }
        "dd" => {
            for a in &args {
                if let Some(p) = a.strip_prefix("if=") {
                    out.push(mk(FileMode::Read, p));
                } else if let Some(p) = a.strip_prefix("of=") {
                    out.push(mk(FileMode::Write, p));
                }
            }
        }
        "tee" => out.extend(operands.iter().map(|p| mk(FileMode::Write, p))),
        "jq" | "yq" => {
            // jq FILTER [FILES…]; `--arg NAME VALUE` and `--argjson` carry
            // two values, `--slurpfile`/`--rawfile NAME FILE` read FILE,
            // `-f FILE` reads the filter from FILE, and everything after
            // `--args`/`--jsonargs` is a positional value.
            let mut filter_seen = false;
            let mut i = 0;
            while let Some(a) = args.get(i) {
                match *a {
                    "--arg" | "--argjson" => i += 2,
                    "--slurpfile" | "--rawfile" => {
                        if let Some(f) = args.get(i + 2) {
                            out.push(mk(FileMode::Read, f));
                        }
                        i += 2;
                    }
                    "-f" | "--from-file" => {
                        if let Some(f) = args.get(i + 1) {
                            out.push(mk(FileMode::Read, f));
                        }
                        filter_seen = true;
                        i += 1;
                    }
                    "--indent" | "-L" | "--tab-size" => i += 1,
                    "--args" | "--jsonargs" => break,
                    _ if a.starts_with('-') && *a != "-" => {}
                    _ if filter_seen => out.push(mk(FileMode::Read, a)),
                    _ => filter_seen = true,
                }
                i += 1;
            }
        }
        "sort" => {
            out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
            out.extend(
                opt_values
                    .iter()
                    .filter(|(o, _)| matches!(*o, "-o" | "--output"))
                    .map(|(_, v)| mk(FileMode::Write, v)),
            );
        }
        "truncate" => out.extend(operands.iter().map(|p| mk(FileMode::Write, p))),
        "curl" | "wget" => {
            for (i, a) in args.iter().enumerate() {
                if matches!(*a, "-o" | "--output" | "-O" | "--output-document")
                    && let Some(p) = args.get(i + 1)
                {
                    out.push(mk(FileMode::Write, p));
                }
                if let Some(d) = a.strip_prefix('@').or_else(|| {
                    args.get(i + 1)
                        .filter(|_| matches!(*a, "-T" | "--upload-file"))
                        .copied()
                }) {
                    out.push(mk(FileMode::Read, d));
                }
                if matches!(*a, "-d" | "--data" | "--data-binary" | "-F" | "--form")
                    && let Some(v) = args.get(i + 1)
                    && let Some(p) = v
                        .strip_prefix('@')
                        .or_else(|| v.split_once("=@").map(|(_, p)| p))
                {
                    out.push(mk(FileMode::Read, p));
                }
            }
        }
        "tar" | "zip" | "openssl" | "gzip" | "gunzip" => {
            out.extend(
                operands
                    .iter()
                    .filter(|p| !p.starts_with('-'))
                    .map(|p| mk(FileMode::Read, p)),
            );
        }
        _ if READERS.contains(&name) => out.extend(operands.iter().map(|p| mk(FileMode::Read, p))),
        _ if WRITERS.contains(&name) => {
            let ops = if matches!(name, "chmod" | "chown" | "chgrp") {
                operands.get(1..).unwrap_or(&[])
            } else {
                &operands[..]
            };
            out.extend(ops.iter().map(|p| mk(FileMode::Write, p)));
        }
        _ => {}
    }
    out.retain(|f| !f.path.is_empty() && f.path != "-" && !f.path.starts_with("/dev/"));
    // Programs that only report metadata (counts, hashes, types) reveal no
    // content, so unknown operands of theirs are not a read of concern.
    let metadata_only = matches!(
        name,
        "wc" | "file" | "stat" | "du" | "md5sum" | "sha1sum" | "sha256sum" | "sha512sum" | "cmp"
    );
    if cmd.dynamic_args && is_file_program(name) && !metadata_only {
        // Arguments appended at run time (`xargs`, `find -exec … +`) may
        // name any file: the known operands are still checked, and the
        // unknown ones are reported as such.
        let mode = if WRITERS.contains(&name) || matches!(name, "cp" | "mv" | "dd" | "tee") {
            FileMode::Write
        } else {
            FileMode::Read
        };
        out.push(FileAccess {
            mode,
            path: "(arguments added at run time)".into(),
            literal: false,
            glob: false,
            via: name.to_string(),
        });
    }
    out
}

/// Operands (non-option words) and option values.
fn split_operands<'a>(
    args: &[&'a str],
    value_opts: &[&str],
) -> (Vec<&'a str>, Vec<(&'a str, &'a str)>) {
    let mut operands = Vec::new();
    let mut values = Vec::new();
    let mut i = 0;
    let mut only_operands = false;
    while let Some(a) = args.get(i) {
        if only_operands || !a.starts_with('-') || *a == "-" {
            operands.push(*a);
        } else if *a == "--" {
            only_operands = true;
        } else if value_opts.contains(a) {
            if let Some(v) = args.get(i + 1) {
                values.push((*a, *v));
            }
            i += 1;
        } else if let Some((o, v)) = a.split_once('=')
            && value_opts.contains(&o)
        {
            values.push((o, v));
        }
        i += 1;
    }
    (operands, values)
}
