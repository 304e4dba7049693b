//! Which files a simple command reads or writes: operands of well-known
//! readers and writers, and redirections.

use serde::Serialize;

use crate::SimpleCommand;
use crate::scripts::{self, Effect};

/// The directory part of a relative path when an earlier `cd` went somewhere
/// not statically known: `(directory after cd)/id_rsa`.
pub const UNKNOWN_CWD: &str = "(directory after cd)";

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
    /// The command acts on everything below the path as well (`rm -r DIR`,
    /// `mv DIR`, `chmod -R`, `cp -r DIR`, `tar`, `find DIR -delete`).
    pub tree: bool,
    /// The path is a search tool's file filter (`grep -r --include=PAT`,
    /// `rg -g PAT`): the files below the search roots it selects are read.
    pub filter: bool,
}

/// Options of readers that consume the following word. Only options that
/// really take a value are listed: an option wrongly listed here would
/// swallow the next operand (`grep --color PATTERN FILE`, `od -c FILE`)
/// and hide the file it names, while a value option left out only adds a
/// harmless extra operand.
fn value_opts(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "head" => &["-n", "-c", "--lines", "--bytes"],
        "tail" => &[
            "-n",
            "-c",
            "--lines",
            "--bytes",
            "-s",
            "--sleep-interval",
            "--pid",
        ],
        // GNU grep: `--color[=WHEN]` takes its value only when joined, and
        // `-T` is `--initial-tab`.
        "grep" | "egrep" | "fgrep" => &[
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "-d",
            "-D",
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--after-context",
            "--before-context",
            "--include",
            "--exclude",
            "--exclude-from",
            "--exclude-dir",
            "--label",
            "--binary-files",
            "--group-separator",
            "--directories",
            "--devices",
        ],
        "rg" => &[
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "-g",
            "-t",
            "-T",
            "-E",
            "-j",
            "-M",
            "-r",
            "-d",
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--after-context",
            "--before-context",
            "--glob",
            "--iglob",
            "--type",
            "--type-not",
            "--type-add",
            "--type-clear",
            "--color",
            "--colors",
            "--encoding",
            "--threads",
            "--max-columns",
            "--replace",
            "--max-depth",
            "--max-filesize",
            "--pre",
            "--pre-glob",
            "--ignore-file",
            "--sort",
            "--sortr",
            "--path-separator",
            "--context-separator",
            "--engine",
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
            "--files0-from",
            "--batch-size",
            "--compress-program",
            "--random-source",
            "--parallel",
        ],
        "uniq" => &[
            "-f",
            "-s",
            "-w",
            "--skip-fields",
            "--skip-chars",
            "--check-chars",
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
            "--output-delimiter",
        ],
        "tree" => &[
            "-o",
            "-L",
            "-P",
            "-I",
            "-H",
            "-T",
            "--filelimit",
            "--charset",
            "--timefmt",
            "--sort",
            "--gitfile",
            "--infofile",
        ],
        "less" => &[
            "-b", "-h", "-j", "-k", "-o", "-O", "-p", "-P", "-T", "-x", "-y", "-z", "-#",
        ],
        // util-linux `more`: `-p` is a flag (clear the screen).
        "more" => &["-n", "--lines"],
        // `od -c` and `od -s` are flags (character and short output).
        "od" => &[
            "-A",
            "-j",
            "-N",
            "-S",
            "-t",
            "--address-radix",
            "--skip-bytes",
            "--read-bytes",
            "--format",
            "--endian",
        ],
        // `hexdump -c` is a flag (one-byte character display).
        "hexdump" => &["-e", "-f", "-n", "-s"],
        "join" => &["-t", "-1", "-2", "-j", "-o", "-a", "-v", "-e"],
        "expand" | "unexpand" => &["-t", "--tabs"],
        "fmt" => &["-w", "-p", "-g", "--width", "--prefix", "--goal"],
        "pr" => &[
            "-h",
            "-w",
            "-l",
            "-o",
            "-N",
            "-W",
            "--header",
            "--width",
            "--length",
            "--indent",
            "--first-line-number",
            "--page-width",
        ],
        "shuf" => &[
            "-n",
            "-o",
            "-i",
            "--head-count",
            "--output",
            "--input-range",
            "--random-source",
        ],
        "iconv" => &["-f", "-t", "-o", "--from-code", "--to-code", "--output"],
        "split" => &[
            "-a",
            "-b",
            "-C",
            "-l",
            "-n",
            "-t",
            "--suffix-length",
            "--bytes",
            "--line-bytes",
            "--lines",
            "--number",
            "--separator",
            "--additional-suffix",
            "--filter",
        ],
        "csplit" => &["-b", "-f", "-n", "--suffix-format", "--prefix", "--digits"],
        "look" => &["-t"],
        "diff" => &[
            "-U",
            "-C",
            "-F",
            "-I",
            "-x",
            "-X",
            "-S",
            "-W",
            "--label",
            "--from-file",
            "--to-file",
            "--exclude",
            "--exclude-from",
            "--ignore-matching-lines",
            "--show-function-line",
            "--starting-file",
            "--width",
            "--tabsize",
            "--horizon-lines",
        ],
        "file" => &[
            "-f",
            "--files-from",
            "-m",
            "--magic-file",
            "-F",
            "--separator",
            "-P",
            "--parameter",
            "-e",
            "--exclude",
        ],
        "xargs" => &[
            "-a",
            "--arg-file",
            "-E",
            "-I",
            "-L",
            "-n",
            "-P",
            "-s",
            "-d",
            "--delimiter",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--max-lines",
            "--process-slot-var",
        ],
        // xxd's options are not getopt ones (`-len 16`, `-cols 8`): handled
        // in `file_accesses`.
        _ => &[],
    }
}

/// Short options whose value is optional and can only be joined to them:
/// the rest of the option word is that value, never more options
/// (`sed -in` is in place with the suffix `n`).
fn optional_joined(cmd: &str) -> &'static [char] {
    match cmd {
        "sed" => &['i'],
        "od" => &['w'],
        "pr" => &['e', 'i', 'n', 's', 'S'],
        "xargs" => &['e', 'i', 'l'],
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
    "diff3",
    "sdiff",
    "cmp",
    "jq",
    "yq",
    "column",
    "fold",
    "paste",
    "rev",
    "join",
    "comm",
    "expand",
    "unexpand",
    "fmt",
    "pr",
    "tsort",
    "ptx",
    "iconv",
    "look",
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
    "chgrp", "vi", "vim", "nvim", "nano", "emacs", "ed", "ex", "code", "sponge", "dos2unix",
    "unix2dos", "sudoedit",
];

/// Every file `cmd` reads or writes, as far as its command line tells.
pub fn file_accesses(cmd: &SimpleCommand) -> Vec<FileAccess> {
    // `python -m pytest ARGS` is pytest with ARGS.
    if let Some(rest) = python_module_args(cmd, "pytest") {
        let mut inner = cmd.clone();
        inner.argv = std::iter::once("pytest".to_string())
            .chain(rest.iter().map(|s| s.to_string()))
            .collect();
        return file_accesses(&inner);
    }
    let mut out: Vec<FileAccess> = cmd
        .redirects
        .iter()
        .map(|r| FileAccess {
            mode: r.mode,
            path: r.path.clone(),
            literal: r.literal,
            glob: !r.literal && !r.path.contains('$'),
            via: "redirect".into(),
            tree: false,
            filter: false,
        })
        .collect();
    let name = cmd.name();
    let args: Vec<&str> = cmd.argv.iter().skip(1).map(String::as_str).collect();
    let Getopt {
        operands,
        values: opt_values,
        shorts,
        longs,
    } = getopt(&args, value_opts(name), optional_joined(name));
    let mk = |mode: FileMode, path: &str| FileAccess {
        mode,
        path: path.to_string(),
        literal: !path.contains("$(") && !path.contains("${"),
        glob: path.contains(['*', '?', '[']),
        via: name.to_string(),
        tree: false,
        filter: false,
    };
    // The values of the options `names`, as files accessed in `mode`.
    let opt_files = |names: &[&str], mode: FileMode| -> Vec<FileAccess> {
        opt_values
            .iter()
            .filter(|(o, _)| names.contains(o))
            .map(|(_, v)| mk(mode, v))
            .collect()
    };
    let unknown = |mode: FileMode, what: &str| FileAccess {
        mode,
        path: format!("({what})"),
        literal: false,
        glob: false,
        via: name.to_string(),
        tree: false,
        filter: false,
    };
    let short_flag = |letters: &[char], long: &[&str]| {
        args.iter().take_while(|a| **a != "--").any(|a| {
            long.contains(a)
                || (a.starts_with('-')
                    && !a.starts_with("--")
                    && a.chars().skip(1).any(|c| letters.contains(&c)))
        })
    };
    // A kubeconfig named on the line may hold a `user.exec` credential
    // plugin, a command kubectl and helm run: not known here.
    if matches!(name, "kubectl" | "oc" | "helm")
        && args
            .iter()
            .take_while(|a| **a != "--")
            .any(|a| a.starts_with("--kubeconfig"))
    {
        out.push(unknown(FileMode::Read, "a kubeconfig named on the line"));
    }
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
            out.extend(opt_files(&["-f", "--file"], FileMode::Read));
            // A recursive search reads everything below its directories
            // (`.` when none is named). rg skips hidden files unless told
            // (`--hidden`, `-.`, `-uu`), so only then is its walk counted.
            let recursive = if name == "rg" {
                shorts.iter().filter(|c| **c == 'u').count() >= 2
                    || shorts.contains(&'.')
                    || longs.contains(&"--hidden")
            } else {
                shorts.iter().any(|c| matches!(c, 'r' | 'R'))
                    || longs.iter().any(|l| {
                        l.len() >= 5
                            && ("--recursive".starts_with(l)
                                || "--dereference-recursive".starts_with(l))
                    })
                    // grep takes unique prefixes of options and of their
                    // keyword values (`--dir=rec`, `-d rec`).
                    || opt_values.iter().any(|(o, v)| {
                        (*o == "-d" || (o.len() >= 5 && "--directories".starts_with(*o)))
                            && v.len() >= 3
                            && "recurse".starts_with(*v)
                    })
            };
            // File filters of a recursive search: `--include=.env` aims the
            // search at `.env` files (a `!` glob of rg excludes).
            let filters: &[&str] = if name == "rg" {
                &["-g", "--glob", "--iglob", "--type-add"]
            } else {
                &["--include"]
            };
            // `--type-add 'k:*.{pem,key}'` defines a file type by globs
            // (then searched with `-tk`): each glob is a filter.
            let mut expanded: Vec<(&str, String)> = Vec::new();
            for (o, v) in opt_values.iter().filter(|(o, _)| filters.contains(o)) {
                if *o == "--type-add" {
                    let globs = v.split_once(':').map_or("", |(_, g)| g);
                    let globs = globs.strip_prefix("include:").unwrap_or(globs);
                    for g in brace_alternatives(globs) {
                        expanded.push(("-g", g));
                    }
                } else {
                    expanded.push((o, (*v).to_string()));
                }
            }
            for (o, v) in expanded.iter().map(|(o, v)| (o, v.as_str())) {
                if v.starts_with('!') {
                    continue;
                }
                // `--iglob` ignores case: judged as the lower-case names
                // protected patterns are written in.
                let v = if *o == "--iglob" {
                    v.to_lowercase()
                } else {
                    v.to_string()
                };
                let pattern = if v.contains('/') {
                    v
                } else {
                    format!("**/{v}")
                };
                out.push(FileAccess {
                    filter: true,
                    glob: true,
                    ..mk(FileMode::Read, &pattern)
                });
            }
            // After the filters, whose findings are the more specific.
            if recursive {
                let dirs: &[&str] = if files.is_empty() { &["."] } else { files };
                out.extend(dirs.iter().map(|p| FileAccess {
                    tree: true,
                    ..mk(FileMode::Read, p)
                }));
            }
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
            out.extend(opt_files(&["-f", "--file"], FileMode::Read));
            // gawk writes its pretty-printed program, profile or variable
            // dump to the file joined to `-o`, `-p`, `-d` (`--pretty-print=`,
            // `--profile=`, `--dump-variables=`, abbreviated or not).
            for a in args.iter().take_while(|a| **a != "--") {
                let file = match a.strip_prefix("--") {
                    Some(long) => long.split_once('=').and_then(|(n, v)| {
                        (n.len() >= 2
                            && ["pretty-print", "profile", "dump-variables"]
                                .iter()
                                .any(|full| full.starts_with(n)))
                        .then_some(v)
                    }),
                    // Short options cluster (`-So.gitlab-ci.yml`): flags
                    // run on until an option taking a value; `-o`, `-p` and
                    // `-d` take the rest of the word as their file.
                    None => a.strip_prefix('-').and_then(|cluster| {
                        for (k, c) in cluster.char_indices() {
                            match c {
                                'o' | 'p' | 'd' => {
                                    return cluster.get(k + 1..).filter(|v| !v.is_empty());
                                }
                                'f' | 'v' | 'F' | 'E' | 'i' | 'l' | 'D' | 'L' => return None,
                                _ => {}
                            }
                        }
                        None
                    }),
                };
                if let Some(f) = file {
                    out.push(mk(FileMode::Write, f));
                }
            }
            // Files the program reads or writes (`getline < f`, `print > f`).
            if let Some(program) = operands.first().filter(|_| !has_f) {
                script_accesses(&mut out, scripts::awk_effects(program), &mk, &unknown);
            }
        }
        "find" => {
            // `-fprint FILE` and friends write FILE; `-delete` removes what
            // the expression selects below each starting point.
            // `-H`, `-L`, `-P`, `-D x`, `-Ox` may come before the start paths.
            let mut k = 0;
            while let Some(a) = args.get(k) {
                match *a {
                    "-H" | "-L" | "-P" => k += 1,
                    "-D" => k += 2,
                    o if o.starts_with("-O") => k += 1,
                    _ => break,
                }
            }
            let starts: Vec<&str> = args
                .get(k..)
                .unwrap_or(&[])
                .iter()
                .take_while(|a| !a.starts_with('-') && **a != "(" && **a != "!")
                .copied()
                .collect();
            let starts = if starts.is_empty() { vec!["."] } else { starts };
            let mut name_filter: Option<String> = None;
            let mut complex = false;
            let mut deletes = false;
            let mut i = 0;
            while let Some(a) = args.get(i) {
                match *a {
                    "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                        if let Some(p) = args.get(i + 1) {
                            out.push(mk(FileMode::Write, p));
                        }
                        i += 1;
                    }
                    "-delete" => {
                        deletes = true;
                        // A test after `-delete` does not limit it.
                        if name_filter.is_none() {
                            complex = true;
                        }
                    }
                    "-name" | "-path" | "-wholename" => {
                        if name_filter.is_some() {
                            complex = true;
                        }
                        name_filter = args.get(i + 1).map(|v| {
                            if *a == "-name" {
                                format!("**/{v}")
                            } else {
                                (*v).to_string()
                            }
                        });
                        i += 1;
                    }
                    "-o" | "-or" | "!" | "-not" | "-iname" | "-ipath" | "-regex" | "-iregex" => {
                        complex = true
                    }
                    _ => {}
                }
                i += 1;
            }
            if deletes {
                for s in &starts {
                    match name_filter.as_deref().filter(|_| !complex) {
                        // `find . -name '*.pyc' -delete` removes `./**/*.pyc`.
                        Some(f) if !f.starts_with('/') => {
                            let base = s.trim_end_matches('/');
                            let p = match f.strip_prefix("**/") {
                                Some(n) => format!("{base}/**/{n}"),
                                None => f.to_string(),
                            };
                            // Unlike bash, find's `*` matches a leading dot.
                            let dotted = p
                                .rsplit_once('/')
                                .filter(|(_, last)| last.starts_with(['*', '?', '[']))
                                .map(|(dir, last)| format!("{dir}/.{last}"));
                            for p in std::iter::once(p).chain(dotted) {
                                out.push(FileAccess {
                                    glob: true,
                                    ..mk(FileMode::Write, &p)
                                });
                            }
                        }
                        _ => out.push(FileAccess {
                            tree: true,
                            ..mk(FileMode::Write, s)
                        }),
                    }
                }
            }
        }
        "git" => out.extend(git_accesses(&args, &mk, &unknown)),
        "diff" => {
            out.extend(opt_files(
                &[
                    "--from-file",
                    "--to-file",
                    "-X",
                    "--exclude-from",
                    "-S",
                    "--starting-file",
                ],
                FileMode::Read,
            ));
            // `diff -r DIR1 DIR2` prints every file below them (with `-N`,
            // the whole content of one missing on the other side).
            // `--rec` is already `--recursive` (GNU takes unique prefixes).
            let tree = shorts.contains(&'r')
                || longs
                    .iter()
                    .any(|l| l.len() >= 5 && "--recursive".starts_with(*l));
            out.extend(operands.iter().map(|p| FileAccess {
                tree,
                ..mk(FileMode::Read, p)
            }));
        }
        // `file -f LIST` prints every name LIST holds; `-m FILE` reads magic.
        "file" => {
            out.extend(opt_files(
                &["-f", "--files-from", "-m", "--magic-file"],
                FileMode::Read,
            ));
            out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
        }
        "xargs" => out.extend(opt_files(&["-a", "--arg-file"], FileMode::Read)),
        "parallel" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(p) = a.strip_prefix("--arg-file=") {
                    out.push(mk(FileMode::Read, p));
                } else if matches!(*a, "-a" | "--arg-file" | "::::")
                    && let Some(p) = args.get(i + 1)
                {
                    out.push(mk(FileMode::Read, p));
                }
            }
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
            // `-i`, `-i.bak`, `-ni`, `-Ei.orig`, `--in-place[=SUF]` and its
            // abbreviations (`--in`, `--in-pl`); a cluster ends at a value
            // option (`-es/i/x/` is a script, not in place).
            let in_place = args.iter().take_while(|a| **a != "--").any(|a| {
                if let Some(long) = a.strip_prefix("--") {
                    let name = long.split_once('=').map_or(long, |(n, _)| n);
                    return !name.is_empty() && "in-place".starts_with(name);
                }
                let Some(cluster) = a.strip_prefix('-') else {
                    return false;
                };
                for c in cluster.chars() {
                    match c {
                        'i' => return true,
                        'e' | 'f' | 'l' => return false,
                        _ => {}
                    }
                }
                false
            });
            for p in files {
                out.push(mk(FileMode::Read, p));
                if in_place {
                    out.push(mk(FileMode::Write, p));
                }
            }
            // Files the script itself reads or writes (`r`, `w`, `s///w`).
            if !args
                .iter()
                .take_while(|a| **a != "--")
                .any(|a| *a == "--sandbox")
            {
                let script = sed_script(&operands, &opt_values);
                script_accesses(&mut out, scripts::sed_effects(&script), &mk, &unknown);
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
            // `mv DIR` and `cp -r DIR` act on everything below DIR.
            let tree = name == "mv"
                || match name {
                    "cp" => short_flag(&['r', 'R', 'a'], &["--recursive", "--archive"]),
                    "scp" => short_flag(&['r'], &[]),
                    "rsync" => short_flag(&['r', 'a'], &["--recursive", "--archive"]),
                    _ => false,
                };
            out.extend(sources.iter().map(|p| FileAccess {
                tree,
                ..mk(src_mode, p)
            }));
            if name == "mv" {
                out.extend(sources.iter().map(|p| FileAccess {
                    tree,
                    ..mk(FileMode::Read, p)
                }));
            }
            // A link is a way to write its target, or everything below a
            // linked directory, under another name: `ln -s .github gh &&
            // cp x gh/workflows/ci.yml`. A relative symbolic target is read
            // from the link's directory, so that reading counts too.
            if name == "ln" {
                for s in sources {
                    out.push(FileAccess {
                        tree: true,
                        ..mk(FileMode::Write, s)
                    });
                    if let Some(d) = dest.filter(|_| !s.starts_with(['/', '~'])) {
                        let d = d.trim_end_matches('/');
                        let mut dirs = vec![d];
                        if let Some((parent, _)) = d.rsplit_once('/') {
                            dirs.push(parent);
                        }
                        for dir in dirs.into_iter().filter(|x| !x.is_empty()) {
                            out.push(FileAccess {
                                tree: true,
                                ..mk(FileMode::Write, &format!("{dir}/{s}"))
                            });
                        }
                    }
                }
            }
            if let Some(d) = dest {
                // A recursive copy may write anything below its destination
                // (`cp -rT /tmp/x .github`, `cp -r /tmp/hooks .git`).
                // An existing directory (`.`, `x/`) receives `d/<basename>`
                // (below), unless `-T` or a `src/.` source copies into it.
                let into_itself = args.iter().any(|a| {
                    *a == "--no-target-directory"
                        || (a.starts_with('-') && !a.starts_with("--") && a.contains('T'))
                }) || sources.iter().any(|s| s.ends_with("/.") || *s == ".");
                let existing_dir = matches!(d, "." | "..") || d.ends_with('/');
                if tree && name != "mv" && (into_itself || !existing_dir) {
                    out.push(FileAccess {
                        tree: true,
                        ..mk(FileMode::Write, d)
                    });
                }
                // `cp --parents a/b DIR` writes `DIR/a/b`.
                if args.contains(&"--parents") {
                    for s in sources {
                        out.push(mk(
                            FileMode::Write,
                            &format!("{}/{s}", d.trim_end_matches('/')),
                        ));
                    }
                }
                // `cp a /tmp/` writes `/tmp/a`, not the directory itself.
                if !d.ends_with('/') {
                    out.push(mk(FileMode::Write, d));
                }
                // Copying into a directory writes `dir/<basename of source>`.
                for s in sources {
                    let base = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
                    out.push(FileAccess {
                        tree: tree && name != "mv",
                        ..mk(
                            FileMode::Write,
                            &format!("{}/{base}", d.trim_end_matches('/')),
                        )
                    });
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
        // `go test -trace=F`, `-coverprofile F`, `-o F`, `-test.trace F`
        // (one dash or two, value joined or next) write F; `-outputdir D`
        // writes below D.
        "go" => {
            const FILES: &[&str] = &[
                "o",
                "trace",
                "coverprofile",
                "cpuprofile",
                "memprofile",
                "blockprofile",
                "mutexprofile",
                "fuzzcache",
            ];
            let mut i = 0;
            while let Some(a) = args.get(i) {
                i += 1;
                if *a == "--" {
                    break;
                }
                let Some(flag) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
                    continue;
                };
                let (name, joined) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (flag, None),
                };
                let name = name.strip_prefix("test.").unwrap_or(name);
                let dir = name == "outputdir";
                if !(dir || FILES.contains(&name)) {
                    continue;
                }
                let value = match joined {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        args.get(i - 1).copied()
                    }
                };
                if let Some(v) = value {
                    out.push(FileAccess {
                        tree: dir,
                        ..mk(FileMode::Write, v)
                    });
                }
            }
        }
        "jq" | "yq" => {
            // jq FILTER [FILES…]; `--arg NAME VALUE` and `--argjson` carry
            // two values, `--slurpfile`/`--rawfile NAME FILE` read FILE,
            // `-f FILE` reads the filter from FILE, and everything after
            // `--args`/`--jsonargs` is a positional value.
            let mut filter_seen = false;
            let mut positional = false;
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
                    // `-L DIR` finds the modules a filter imports in DIR
                    // (`import "secrets" as $s` reads DIR/secrets.json):
                    // everything below DIR may be read.
                    "-L" | "--library-path" => {
                        if let Some(d) = args.get(i + 1) {
                            out.push(FileAccess {
                                tree: true,
                                ..mk(FileMode::Read, d)
                            });
                        }
                        i += 1;
                    }
                    _ if a.starts_with("-L") && a.len() > 2 => {
                        out.push(FileAccess {
                            tree: true,
                            ..mk(FileMode::Read, a.get(2..).unwrap_or_default())
                        });
                    }
                    "--indent" | "--tab-size" => i += 1,
                    // `--run-tests FILE` echoes every line of FILE.
                    "--run-tests" => {
                        if let Some(f) = args.get(i + 1) {
                            out.push(mk(FileMode::Read, f));
                        }
                        i += 1;
                    }
                    // Words after `--args`/`--jsonargs` are values, not
                    // files, but options still count there
                    // (`jq -n --args '$k' --rawfile k .env`).
                    "--args" | "--jsonargs" => positional = true,
                    // Short options combine (`-nf FILE`): an `f` among them
                    // takes the next word as the filter file.
                    _ if a.starts_with('-')
                        && !a.starts_with("--")
                        && a.len() > 2
                        && a.contains('f') =>
                    {
                        if let Some(f) = args.get(i + 1) {
                            out.push(mk(FileMode::Read, f));
                        }
                        filter_seen = true;
                        i += 1;
                    }
                    _ if a.starts_with('-') && *a != "-" => {}
                    _ if filter_seen && positional => {}
                    _ if filter_seen => out.push(mk(FileMode::Read, a)),
                    _ => {
                        filter_seen = true;
                        // `import "secrets" as $s {search: "."}` reads a
                        // module file from wherever its metadata says.
                        if jq_imports(a) {
                            out.push(unknown(FileMode::Read, "modules a jq filter imports"));
                        }
                    }
                }
                i += 1;
            }
        }
        // `shuf -o FILE`, `iconv -o FILE` write FILE; `shuf -e WORDS` and
        // `shuf -i LO-HI` read no file.
        "shuf" | "iconv" => {
            let echo = name == "shuf"
                && args.iter().take_while(|a| **a != "--").any(|a| {
                    *a == "-e"
                        || (a.starts_with("--e") && "--echo".starts_with(*a))
                        || (a.starts_with('-') && !a.starts_with("--") && a.contains('e'))
                });
            let range = opt_values
                .iter()
                .any(|(o, _)| matches!(*o, "-i" | "--input-range"));
            if !echo && !range {
                out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
            }
            out.extend(opt_files(&["-o", "--output"], FileMode::Write));
            out.extend(opt_files(&["--random-source"], FileMode::Read));
        }
        // `split IN [PREFIX]` and `csplit [-f PREFIX] IN …` read IN and
        // write files named PREFIX followed by a suffix.
        "split" | "csplit" => {
            out.extend(operands.first().map(|p| mk(FileMode::Read, p)));
            let prefix = if name == "split" {
                operands.get(1).copied().unwrap_or("x")
            } else {
                opt_values
                    .iter()
                    .rev()
                    .find(|(o, _)| matches!(*o, "-f" | "--prefix"))
                    .map_or("xx", |(_, v)| *v)
            };
            let pattern = format!("{prefix}*");
            out.push(FileAccess {
                glob: true,
                ..mk(FileMode::Write, &pattern)
            });
        }
        // `uniq [INPUT [OUTPUT]]` writes its second operand.
        "uniq" => {
            out.extend(operands.first().map(|p| mk(FileMode::Read, p)));
            out.extend(
                operands
                    .get(1..)
                    .unwrap_or(&[])
                    .iter()
                    .map(|p| mk(FileMode::Write, p)),
            );
        }
        // `xxd [OPTIONS] [INFILE [OUTFILE]]`, options such as `-len 16`
        // or `-l16`: every word that is not an option may be the input,
        // and every one after the first may be the output.
        "xxd" => {
            let takes_value = |o: &str| {
                matches!(
                    o,
                    "-c" | "-cols"
                        | "-g"
                        | "-groupsize"
                        | "-l"
                        | "-len"
                        | "-n"
                        | "-name"
                        | "-o"
                        | "-offset"
                        | "-s"
                        | "-seek"
                        | "-R"
                )
            };
            let mut files = Vec::new();
            for (i, a) in args.iter().enumerate() {
                if a.starts_with('-') && *a != "-" {
                    continue;
                }
                // Every word is read, in case it is not the value it seems.
                out.push(mk(FileMode::Read, a));
                let is_value = i
                    .checked_sub(1)
                    .and_then(|j| args.get(j))
                    .is_some_and(|o| takes_value(o));
                if !is_value {
                    files.push(*a);
                }
            }
            out.extend(files.iter().skip(1).map(|p| mk(FileMode::Write, p)));
        }
        // `tree --fromfile FILE` prints the lines of FILE; `-o FILE`
        // writes the listing.
        "tree" => {
            let from_file = args.iter().take_while(|a| **a != "--").any(|a| {
                let name = a.split_once('=').map_or(*a, |(n, _)| n);
                name.len() > 3
                    && ("--fromfile".starts_with(name) || "--fromtabfile".starts_with(name))
            });
            if from_file {
                out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
            }
            out.extend(opt_files(&["-o"], FileMode::Write));
        }
        "sort" => {
            out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
            out.extend(opt_files(&["--files0-from"], FileMode::Read));
            out.extend(opt_files(&["-o", "--output"], FileMode::Write));
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
        "tar" => out.extend(tar_accesses(&args, mk)),
        "pytest" | "py.test" => out.extend(pytest_accesses(&args, mk)),
        // Tools that write a whole directory named by an option: helm
        // renders or unpacks charts into `--output-dir`/`--untardir`/
        // `--destination`, and an image build exports its files to
        // `-o`/`--output` (`dest=` of a local or tar export).
        "helm" | "docker" | "podman" | "buildah" | "nerdctl" => {
            let opts: &[&str] = match name {
                "helm" => &["--output-dir", "--untardir", "--destination", "-d"],
                _ if args.iter().any(|a| matches!(*a, "build" | "bud")) => &["-o", "--output"],
                _ => &[],
            };
            for (o, v) in getopt(&args, opts, &[]).values {
                // Go's flag parsing also takes `-o=VALUE`.
                let v = if o.len() == 2 {
                    v.strip_prefix('=').unwrap_or(v)
                } else {
                    v
                };
                let (dest, tree) = match v.split(',').find_map(|kv| kv.strip_prefix("dest=")) {
                    Some(d) => (d, !v.contains("type=tar")),
                    None if v.contains('=') => continue,
                    None => (v, true),
                };
                if dest != "-" {
                    out.push(FileAccess {
                        tree,
                        ..mk(FileMode::Write, dest)
                    });
                }
            }
        }
        "zip" | "openssl" | "gzip" | "gunzip" => {
            let tree = name == "zip";
            out.extend(
                operands
                    .iter()
                    .filter(|p| !p.starts_with('-'))
                    .map(|p| FileAccess {
                        tree,
                        ..mk(FileMode::Read, p)
                    }),
            );
        }
        _ if READERS.contains(&name) => out.extend(operands.iter().map(|p| mk(FileMode::Read, p))),
        _ if WRITERS.contains(&name) => {
            let ops = if matches!(name, "chmod" | "chown" | "chgrp") {
                operands.get(1..).unwrap_or(&[])
            } else {
                &operands[..]
            };
            let tree = match name {
                "rm" => short_flag(&['r', 'R'], &["--recursive"]),
                "chmod" | "chown" | "chgrp" => short_flag(&['R'], &["--recursive"]),
                _ => false,
            };
            out.extend(ops.iter().map(|p| FileAccess {
                tree,
                ..mk(FileMode::Write, p)
            }));
        }
        _ => {}
    }
    // Character streams (`/dev/null`, `/dev/stdout`, `/dev/fd/N`…) are not
    // files; any other path under `/dev/` is kept, as an access outside the
    // repository (`> /dev/sda`, `cat /dev/sda`, `cat /dev/fd/../cwd/.env`).
    out.retain(|f| !f.path.is_empty() && f.path != "-" && !is_stream_device(&f.path));
    // Relative paths are relative to the directory an earlier `cd` went to.
    for f in &mut out {
        if !f.literal || f.path.starts_with('/') || f.path.starts_with('~') {
            continue;
        }
        if cmd.cwd_unknown {
            f.literal = false;
            f.path = format!("{UNKNOWN_CWD}/{}", f.path);
        } else if !cmd.cwd.is_empty() {
            f.path = format!("{}/{}", cmd.cwd.trim_end_matches('/'), f.path);
        }
    }
    // Programs that only report metadata (counts, hashes, types) reveal no
    // content, so unknown operands of theirs are not a read of concern.
    // `--files0-from=F` (du, wc, sort) and find's `-files0-from F` read the
    // names in F, and print them back in their errors.
    for (i, a) in args.iter().enumerate() {
        let value = match a.split_once('=') {
            Some((o, v)) if o.len() > 7 && "--files0-from".starts_with(o) => Some(v),
            None if *a == "-files0-from" || (a.len() > 7 && "--files0-from".starts_with(*a)) => {
                args.get(i + 1).copied()
            }
            _ => None,
        };
        if let Some(v) = value.filter(|_| name != "sort") {
            out.push(mk(FileMode::Read, v));
        }
        // sort prints the content of the files the list names, which are
        // not known here (`printf '.env\0' | sort --files0-from=-`).
        if value.is_some() && name == "sort" {
            out.push(unknown(
                FileMode::Read,
                "the files a --files0-from list names",
            ));
        }
    }
    // `dos2unix FILE` rewrites FILE from what it read.
    if matches!(name, "dos2unix" | "unix2dos") {
        let reads: Vec<FileAccess> = out
            .iter()
            .filter(|f| f.mode == FileMode::Write && f.via == name)
            .map(|f| FileAccess {
                mode: FileMode::Read,
                ..f.clone()
            })
            .collect();
        out.extend(reads);
    }
    let metadata_only = matches!(
        name,
        "wc" | "file" | "stat" | "du" | "md5sum" | "sha1sum" | "sha256sum" | "sha512sum" | "cmp"
    );
    // `cmp -l` prints bytes: it is judged on globs like any reader.
    if metadata_only && name != "cmp" {
        // Nor is a glob operand of theirs judged by what it might expand
        // to; a literal protected path is still checked.
        out.retain(|f| !(f.glob && f.mode == FileMode::Read && f.via == name));
    }
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
            tree: false,
            filter: false,
        });
    }
    out
}

/// Programs that print or change no file content of the paths they are
/// given (`echo .env >> .gitignore`, `ls -la .env`, `mkdir -p x`).
const NO_CONTENT: &[&str] = &[
    "",
    "echo",
    "printf",
    "ls",
    "dir",
    "vdir",
    "stat",
    "test",
    "[",
    "[[",
    "which",
    "type",
    "command",
    "hash",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "cd",
    "pushd",
    "popd",
    "export",
    "declare",
    "typeset",
    "local",
    "readonly",
    "unset",
    "set",
    "true",
    "false",
    "exit",
    "return",
    "kill",
    "sleep",
    "trap",
    "alias",
    "unalias",
    "mkdir",
    "touch",
    "rmdir",
    "chmod",
    "chown",
    "chgrp",
    "rm",
    "unlink",
    "shred",
    "truncate",
    "sha256sum",
    "sha1sum",
    "sha512sum",
    "md5sum",
    "wc",
    "file",
    "mktemp",
    "getopts",
    "shift",
    "wait",
    "read",
];

/// Whether `file_accesses` knows which of `name`'s arguments are files.
fn models_files(name: &str) -> bool {
    is_file_program(name)
        || NO_CONTENT.contains(&name)
        || matches!(
            name,
            "find"
                | "git"
                | "diff"
                | "xargs"
                | "parallel"
                | "rsync"
                | "scp"
                | "dd"
                | "shuf"
                | "iconv"
                | "split"
                | "csplit"
                | "xxd"
                | "tree"
                | "truncate"
                | "curl"
                | "wget"
                | "tar"
                | "zip"
                | "openssl"
                | "gzip"
                | "gunzip"
        )
}

/// Words that may name a file, for a program `file_accesses` does not
/// model (`python3 upload.py .env`, `date -f .env`, `gcc -x c .env`,
/// `docker build --secret id=k,src=.env`): every literal argument, the
/// value of `--opt=VALUE`, the rest of `-xVALUE`, each `k=v` of a comma
/// list and `@FILE`. Relative words are placed like operands (after `cd`).
/// The engine asks for review when one of them is a protected read path.
pub fn unmodelled_path_words(cmd: &SimpleCommand) -> Vec<String> {
    let name = cmd.name();
    if models_files(name) {
        return Vec::new();
    }
    let mut words: Vec<String> = Vec::new();
    for a in cmd.argv.iter().skip(1) {
        if a.contains("$(") || a.contains("${") || a.contains('`') {
            continue;
        }
        let mut add = |w: &str| {
            let w = w.strip_prefix('@').unwrap_or(w);
            if !w.is_empty() && !w.starts_with('-') && !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        };
        add(a);
        if let Some(rest) = a.strip_prefix('-').filter(|r| !r.starts_with('-')) {
            add(rest.get(1..).unwrap_or(""));
        }
        let value = if a.starts_with('-') {
            a.split_once('=').map(|(_, v)| v)
        } else {
            Some(a.as_str())
        };
        for part in value.into_iter().flat_map(|v| v.split(',')) {
            add(part);
            if let Some((_, v)) = part.split_once('=') {
                add(v);
            }
        }
    }
    words
        .into_iter()
        .map(|w| {
            if w.starts_with('/') || w.starts_with('~') {
                w
            } else if cmd.cwd_unknown {
                format!("{UNKNOWN_CWD}/{w}")
            } else if cmd.cwd.is_empty() {
                w
            } else {
                format!("{}/{w}", cmd.cwd.trim_end_matches('/'))
            }
        })
        .collect()
}

/// The value of the first of `wanted` on `name`'s command line, however it
/// is spelt (`-a F`, `-aF`, `--arg-file=F`, `--arg F`).
pub(crate) fn option_value(name: &str, args: &[&str], wanted: &[&str]) -> Option<String> {
    let values = getopt(args, value_opts(name), optional_joined(name)).values;
    values
        .into_iter()
        .find(|(o, _)| wanted.contains(o))
        .map(|(_, v)| v.to_string())
}

/// The files a sed or awk program reads and writes.
fn script_accesses(
    out: &mut Vec<FileAccess>,
    effects: Vec<Effect>,
    mk: &dyn Fn(FileMode, &str) -> FileAccess,
    unknown: &dyn Fn(FileMode, &str) -> FileAccess,
) {
    for effect in effects {
        match effect {
            Effect::Read(Some(p)) => out.push(mk(FileMode::Read, &p)),
            Effect::Write(Some(p)) => out.push(mk(FileMode::Write, &p)),
            Effect::Read(None) => out.push(unknown(FileMode::Read, "file named at run time")),
            Effect::Write(None) => out.push(unknown(FileMode::Write, "file named at run time")),
            Effect::Exec(_) | Effect::Unparsed => {}
        }
    }
}

/// Files a `git` command line reads or writes. Global options come first
/// (`-C DIR` moves every relative path below DIR; `-c k=v`, `--git-dir X`
/// take a value), then the subcommand:
/// - reads: `show`/`cat-file REV:PATH` (also `:PATH` and `:N:PATH`), every
///   operand of `diff` (it compares plain files when one lies outside the
///   work tree), `blame` and `--contents F`, the paths of `grep` and of
///   `log -p`, `commit`/`tag -F FILE`, `format-patch --signature-file`,
///   `config --file F`, the files `add` stages;
/// - writes: `--output=FILE`, `archive`/`format-patch -o`, the paths
///   `checkout`/`restore` overwrite (everything below them when taken from
///   another commit), and `config --file F` when it sets a value.
fn git_accesses(
    args: &[&str],
    mk: &dyn Fn(FileMode, &str) -> FileAccess,
    unknown: &dyn Fn(FileMode, &str) -> FileAccess,
) -> Vec<FileAccess> {
    let mut out = Vec::new();
    let mut k = 0;
    let mut dir: Option<String> = None;
    let mut work_tree = false;
    while let Some(a) = args.get(k) {
        if !a.starts_with('-') {
            break;
        }
        // `--work-tree DIR` places the paths like `-C DIR` (checkout writes
        // there); `--git-dir DIR` makes git read that directory's config,
        // whose `core.fsmonitor` or hooks run: not known here.
        if a.starts_with("--git-dir") {
            out.push(unknown(FileMode::Read, "a git directory named on the line"));
        }
        if let Some(d) = a.strip_prefix("--work-tree=") {
            dir = Some(d.to_string());
            work_tree = true;
        }
        match *a {
            "-c" | "--git-dir" | "--namespace" | "--config-env" | "--super-prefix"
            | "--list-cmds" => k += 1,
            "--work-tree" => {
                k += 1;
                if let Some(d) = args.get(k) {
                    dir = Some((*d).to_string());
                    work_tree = true;
                }
            }
            "-C" => {
                k += 1;
                if let Some(d) = args.get(k) {
                    dir = Some(match dir {
                        Some(prev) if !d.starts_with('/') && !d.starts_with('~') => {
                            format!("{}/{d}", prev.trim_end_matches('/'))
                        }
                        _ => (*d).to_string(),
                    });
                }
            }
            _ => {}
        }
        k += 1;
    }
    let sub = args.get(k).copied().unwrap_or("");
    let after_sub: Vec<&str> = args.get(k + 1..).unwrap_or(&[]).to_vec();
    let dashdash = after_sub.iter().position(|a| *a == "--");
    let is_opt = |i: usize, a: &str| a.starts_with('-') && dashdash.is_none_or(|d| i < d);
    // Operands: words that are not options, before and after `--`.
    let operands: Vec<&str> = after_sub
        .iter()
        .enumerate()
        .filter(|(i, a)| !is_opt(*i, a) && **a != "--")
        .map(|(_, a)| *a)
        .collect();
    let after_dd: Vec<&str> = dashdash
        .map(|d| after_sub.get(d + 1..).unwrap_or(&[]).to_vec())
        .unwrap_or_default();
    let values = |opts: &[&str]| -> Vec<(String, String)> {
        let v = getopt(&after_sub, opts, &[]).values;
        v.into_iter()
            .map(|(o, v)| (o.to_string(), v.to_string()))
            .collect()
    };
    for (i, a) in after_sub.iter().enumerate() {
        if !is_opt(i, a) {
            continue;
        }
        // `format-patch -o DIR` writes files below DIR.
        let into_dir = |p: &str| FileAccess {
            tree: sub == "format-patch",
            ..mk(FileMode::Write, p)
        };
        if let Some(p) = a.strip_prefix("--output=") {
            out.push(mk(FileMode::Write, p));
        } else if let Some(p) = a.strip_prefix("--output-directory=") {
            out.push(into_dir(p));
        } else if *a == "--output"
            && let Some(p) = after_sub.get(i + 1)
        {
            out.push(mk(FileMode::Write, p));
        } else if *a == "--output-directory"
            && let Some(p) = after_sub.get(i + 1)
        {
            out.push(into_dir(p));
        } else if matches!(sub, "archive" | "format-patch")
            && let Some(p) = a.strip_prefix("-o")
        {
            match (p, after_sub.get(i + 1)) {
                ("", Some(v)) => out.push(into_dir(v)),
                ("", None) => {}
                (p, _) => out.push(into_dir(p)),
            }
        }
    }
    // `--pathspec-from-file=FILE` (add, commit, reset, rm, stash, checkout,
    // restore) reads FILE, and names its lines in errors
    // (`pathspec 'KEY=…' did not match any files`).
    // git takes any unambiguous prefix of a long option: `--pathspec-fr`
    // is already this one (`--pathspec-f` could be `--pathspec-file-nul`).
    for (i, a) in after_sub.iter().enumerate() {
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (*a, None),
        };
        let abbreviates =
            name.len() >= "--pathspec-fr".len() && "--pathspec-from-file".starts_with(name);
        let file = match (abbreviates, value) {
            (true, Some(v)) => Some(v),
            (true, None) => after_sub.get(i + 1).copied(),
            _ => None,
        };
        if let Some(f) = file.filter(|f| *f != "-")
            && is_opt(i, a)
        {
            out.push(mk(FileMode::Read, f));
        }
    }
    // Options that make log print patches (`--cc`, `--patch-with-stat`,
    // `--word-diff`, `-m` in git 2.31 and later).
    let patch = after_sub.iter().any(|a| {
        matches!(
            *a,
            "-p" | "-u" | "-c" | "-m" | "-W" | "--cc" | "--dd" | "--binary" | "--remerge-diff"
        ) || [
            "-U",
            "--patch",
            "--unified",
            "--word-diff",
            "--color-words",
            "--function-context",
        ]
        .iter()
        .any(|p| a.starts_with(p))
    });
    match sub {
        // `git rev-parse REV:PATH` names PATH's content for a later
        // `git show <id>` or `cat-file` to print.
        "show" | "cat-file" | "rev-parse" => {
            for a in &operands {
                let path = object_path(a);
                if let Some(p) = path.filter(|p| !p.is_empty()) {
                    out.push(mk(FileMode::Read, p));
                } else if sub == "show" && path.is_none() {
                    // `git show HEAD .env`: a word that is not a revision
                    // is a path limiting the diff shown.
                    out.push(mk(FileMode::Read, a));
                }
            }
            if sub == "show" {
                out.extend(after_dd.iter().map(|p| mk(FileMode::Read, p)));
            }
        }
        "diff" | "diff-tree" | "diff-index" | "diff-files" | "blame" | "annotate" => {
            let Getopt {
                operands: ops,
                values: vals,
                ..
            } = getopt(&after_sub, &["--contents", "-L"], &[]);
            // `git diff --no-index A B` compares two paths outside git, and
            // directories as a whole.
            let tree = sub == "diff" && after_sub.contains(&"--no-index");
            out.extend(ops.iter().map(|p| FileAccess {
                tree,
                ..mk(FileMode::Read, p)
            }));
            // `git diff HEAD~1:.env HEAD:.env` compares (prints) the
            // content of PATH at those revisions, as `git show REV:PATH`.
            // `:PATH` and `:N:PATH` are the index's copy (pathspec magic
            // `:(…)` and `:/` is handled below).
            out.extend(
                ops.iter()
                    .filter(|a| !a.starts_with(":(") && !a.starts_with(":/"))
                    .filter_map(|a| object_path(a))
                    .filter(|p| !p.is_empty())
                    .map(|p| mk(FileMode::Read, p)),
            );
            for (_, v) in vals.iter().filter(|(o, _)| *o == "--contents") {
                out.push(mk(FileMode::Read, v));
            }
        }
        "grep" => {
            let Getopt {
                operands: ops,
                values: vals,
                ..
            } = getopt(
                &after_sub,
                &[
                    "-e",
                    "-f",
                    "-A",
                    "-B",
                    "-C",
                    "-m",
                    "--max-depth",
                    "--threads",
                ],
                &['O'],
            );
            let explicit = vals.iter().any(|(o, _)| matches!(*o, "-e" | "-f"));
            for (_, v) in vals.iter().filter(|(o, _)| *o == "-f") {
                out.push(mk(FileMode::Read, v));
            }
            let skip = usize::from(!explicit);
            out.extend(ops.iter().skip(skip).map(|p| mk(FileMode::Read, p)));
        }
        "log" | "whatchanged" => {
            // `-L START,END:FILE` and `-L :FUNC:FILE` print FILE's lines
            // through its history.
            for (_, v) in getopt(&after_sub, &["-L"], &[]).values {
                if let Some((_, f)) = v.rsplit_once(':')
                    && !f.is_empty()
                {
                    out.push(mk(FileMode::Read, f));
                }
            }
            if patch {
                out.extend(operands.iter().map(|p| mk(FileMode::Read, p)));
            }
        }
        "add" => out.extend(operands.iter().map(|p| mk(FileMode::Read, p))),
        "commit" | "tag" | "notes" | "merge" => {
            for (o, v) in values(&["-F", "--file", "-m", "--message", "-t", "--template"]) {
                if matches!(o.as_str(), "-F" | "--file" | "-t" | "--template") {
                    out.push(mk(FileMode::Read, &v));
                }
            }
        }
        "format-patch" => {
            for (_, v) in values(&["--signature-file"]) {
                out.push(mk(FileMode::Read, &v));
            }
        }
        "config" => {
            let files = values(&["-f", "--file", "--blob"]);
            let sets = operands.len() >= 2
                || after_sub.iter().any(|a| {
                    matches!(
                        *a,
                        "--add"
                            | "--unset"
                            | "--unset-all"
                            | "--replace-all"
                            | "--rename-section"
                            | "--remove-section"
                            | "--edit"
                            | "-e"
                            | "set"
                            | "unset"
                            | "edit"
                    )
                });
            for (_, v) in files.iter().filter(|(o, _)| o != "--blob") {
                out.push(mk(FileMode::Read, v));
                if sets {
                    out.push(mk(FileMode::Write, v));
                }
            }
        }
        // `git stash [push] [-u|-a] [--] PATHS` takes the changes below
        // PATHS away (untracked and ignored files too with `-u`/`-a`): a
        // write of each (`git stash push --all -- .claude .cavra`). Plain
        // `git stash` names no path.
        "stash" => {
            let (push, rest): (bool, &[&str]) = match after_sub.first() {
                Some(&"push") | Some(&"save") => (true, after_sub.get(1..).unwrap_or(&[])),
                Some(a) if a.starts_with('-') => (true, &after_sub[..]),
                _ => (false, &[]),
            };
            if push {
                let Getopt {
                    operands: ops,
                    values: vals,
                    ..
                } = getopt(rest, &["-m", "--message", "--pathspec-from-file"], &[]);
                let save = after_sub.first() == Some(&"save");
                // `git stash save MESSAGE` takes words as the message.
                if !save {
                    out.extend(ops.iter().map(|p| FileAccess {
                        tree: true,
                        ..mk(FileMode::Write, p)
                    }));
                }
                if vals.iter().any(|(o, _)| *o == "--pathspec-from-file") {
                    out.push(unknown(FileMode::Write, "paths listed in a file"));
                }
            }
        }
        // `git checkout [REV] [--] PATHS` and `git restore PATHS` overwrite
        // working-tree files. A lone `git checkout WORD` may be a branch or
        // a path: it is recorded as a write of WORD, which matters only
        // when WORD is a protected path.
        "checkout" | "restore" => {
            let value_opts: &[&str] = if sub == "checkout" {
                &["-b", "-B", "--orphan", "--conflict", "--pathspec-from-file"]
            } else {
                &["-s", "--source", "--conflict", "--pathspec-from-file"]
            };
            let Getopt {
                operands: ops,
                values: vals,
                ..
            } = getopt(&after_sub, value_opts, &[]);
            let (paths, from_rev): (&[&str], bool) = match dashdash {
                Some(d) if sub == "checkout" => (
                    after_sub.get(d + 1..).unwrap_or(&[]),
                    ops.len() > after_dd.len(),
                ),
                _ if sub == "checkout" && ops.len() > 1 => (ops.get(1..).unwrap_or(&[]), true),
                _ => (
                    &ops[..],
                    vals.iter().any(|(o, _)| matches!(*o, "-s" | "--source")),
                ),
            };
            // `git restore --staged PATHS` (without `--worktree`) changes
            // only the index.
            let staged_only = sub == "restore"
                && after_sub.iter().any(|a| *a == "--staged" || *a == "-S")
                && !after_sub.iter().any(|a| {
                    *a == "--worktree"
                        || (a.starts_with('-') && !a.starts_with("--") && a.contains('W'))
                });
            let paths: &[&str] = if staged_only { &[] } else { paths };
            // Paths taken from another commit replace everything below them.
            out.extend(paths.iter().map(|p| FileAccess {
                tree: from_rev,
                ..mk(FileMode::Write, p)
            }));
            if vals.iter().any(|(o, _)| *o == "--pathspec-from-file") {
                out.push(unknown(FileMode::Write, "paths listed in a file"));
            }
        }
        _ => {}
    }
    // Pathspec magic: `:(top).env`, `:(icase,glob).ENV`, `:/.env` name
    // the path after it (the protected lists already fold case); `:/` and
    // `:(top)` alone are the whole tree, and so is an exclusion (`:!README`,
    // `:^x`, `:(exclude)x`: everything but x).
    for f in &mut out {
        if !f.path.starts_with(':') {
            continue;
        }
        let (exclude, rest) = if let Some(rest) = f.path.strip_prefix(":(") {
            match rest.split_once(')') {
                Some((magic, p)) => (
                    magic
                        .split(',')
                        .any(|m| matches!(m.trim(), "exclude" | "!" | "^")),
                    p.to_string(),
                ),
                None => (false, rest.to_string()),
            }
        } else {
            let body = f.path.get(1..).unwrap_or("");
            let magic: String = body
                .chars()
                .take_while(|c| matches!(c, '/' | '!' | '^'))
                .collect();
            let p = body.get(magic.len()..).unwrap_or("");
            let p = p.strip_prefix(':').unwrap_or(p);
            (magic.contains(['!', '^']), p.to_string())
        };
        if exclude || rest.is_empty() {
            // Like `.`: everything below when taken from another commit.
            f.path = ".".into();
        } else {
            f.path = rest;
        }
    }
    if let Some(d) = dir {
        for f in &mut out {
            if f.literal && !f.path.starts_with('/') && !f.path.starts_with('~') {
                f.path = format!("{}/{}", d.trim_end_matches('/'), f.path);
            }
        }
    }
    // `git --work-tree=DIR add PATHS` stages DIR's files as the
    // repository's PATHS: the next checkout writes them there. Staged from
    // elsewhere, a path is as good as written (`… add .github/workflows/ci.yml
    // && git checkout -- .github`).
    if work_tree && matches!(sub, "add" | "stage") {
        let Getopt { operands: ops, .. } =
            getopt(&after_sub, &["--chmod", "--pathspec-from-file"], &[]);
        out.extend(ops.iter().map(|p| FileAccess {
            tree: true,
            ..mk(FileMode::Write, p)
        }));
    }
    out
}

/// The arguments after `-m MODULE` when `cmd` is a Python interpreter
/// (`python`, `python3`, `python3.12`, `pypy3`) running `module`
/// (`python -m pytest -x`, `python3 -Bm pytest`). `None` when it runs
/// anything else: a script, `-c` code, another module.
fn python_module_args<'a>(cmd: &'a SimpleCommand, module: &str) -> Option<&'a [String]> {
    let name = cmd.name();
    let version = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))?;
    if !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let args = cmd.argv.get(1..)?;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--check-hash-based-pycs" {
            i += 2;
            continue;
        }
        if a.starts_with("--") || !a.starts_with('-') || a == "-" {
            // Another long option takes no value; anything else is the
            // script (or `-` for stdin).
            if a.starts_with("--") && a != "--" {
                i += 1;
                continue;
            }
            return None;
        }
        let flags = a.get(1..).unwrap_or("");
        for (k, c) in flags.char_indices() {
            let rest = flags.get(k + c.len_utf8()..).unwrap_or("");
            match c {
                'm' => {
                    let (m, after) = if rest.is_empty() {
                        (args.get(i + 1)?.as_str(), i + 2)
                    } else {
                        (rest, i + 1)
                    };
                    return (m == module).then(|| args.get(after..).unwrap_or(&[]));
                }
                'c' => return None,
                'W' | 'X' => {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Files pytest writes or reads because of its options: it empties and
/// refills `--basetemp`, keeps its cache below `--rootdir` or `-o
/// cache_dir=DIR`, writes reports (`--junitxml`, `--log-file`,
/// `--cov-report=html:DIR`) and reads `-c FILE`.
fn pytest_accesses(args: &[&str], mk: impl Fn(FileMode, &str) -> FileAccess) -> Vec<FileAccess> {
    const TREES: &[&str] = &["--basetemp", "--rootdir"];
    const FILES: &[&str] = &[
        "--junitxml",
        "--junit-xml",
        "--log-file",
        "--resultlog",
        "--result-log",
        "--report-log",
        "--html",
        "--json-report-file",
        "--debug",
    ];
    const READS: &[&str] = &["-c", "--config-file", "--inifile"];
    const OTHER: &[&str] = &["-o", "--override-ini", "--cov-report"];
    let opts: Vec<&str> = [TREES, FILES, READS, OTHER].concat();
    let mut out = Vec::new();
    let tree = |p: &str| FileAccess {
        tree: true,
        ..mk(FileMode::Write, p)
    };
    for (o, v) in getopt(args, &opts, &[]).values {
        if TREES.contains(&o) {
            out.push(tree(v));
        } else if FILES.contains(&o) {
            out.push(mk(FileMode::Write, v));
        } else if READS.contains(&o) {
            out.push(mk(FileMode::Read, v));
        } else if o == "--cov-report" {
            // `TYPE:PATH`; `term`, `html` alone write nothing named here.
            if let Some((kind, p)) = v.split_once(':')
                && !p.is_empty()
                && !kind.starts_with("term")
            {
                out.push(if kind == "html" {
                    tree(p)
                } else {
                    mk(FileMode::Write, p)
                });
            }
        } else if let Some((key, p)) = v.split_once('=') {
            match key.trim() {
                "cache_dir" => out.push(tree(p)),
                k if k == "log_file" || k.ends_with("_log_file") => {
                    out.push(mk(FileMode::Write, p))
                }
                _ => {}
            }
        }
    }
    out
}

/// The path an object name names: `REV:PATH`, `:PATH` (the index),
/// `:N:PATH` (a stage); for `REV:PATH` the first `:` outside `{…}`
/// (`HEAD^{/fix: x}:.env`, `HEAD@{2024-01-01 10:00}:.env`).
fn object_path(a: &str) -> Option<&str> {
    match a.strip_prefix(':') {
        Some(rest) => {
            let mut c = rest.chars();
            match (c.next(), c.next()) {
                (Some(d), Some(':')) if d.is_ascii_digit() => rest.get(2..),
                _ => Some(rest),
            }
        }
        None => rev_path(a),
    }
}

/// The path of `REV:PATH`: after the first `:` outside `{…}`.
fn rev_path(a: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in a.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return a.get(i + 1..),
            _ => {}
        }
    }
    None
}

/// Files `tar` reads and writes: creating reads every operand (and what is
/// below it) and writes the archive; extracting reads the archive and writes
/// everything below the target directory.
fn tar_accesses(args: &[&str], mk: impl Fn(FileMode, &str) -> FileAccess) -> Vec<FileAccess> {
    let mut out = Vec::new();
    let mut archive: Option<&str> = None;
    let mut dir: Option<&str> = None;
    let mut operands: Vec<&str> = Vec::new();
    let (mut create, mut extract, mut absolute) = (false, false, false);
    let mut i = 0;
    while let Some(a) = args.get(i) {
        // Old style: the first word is a bundle of letters (`czf`) whose
        // values are the next words in turn; with a dash, a value letter
        // takes the rest of its word (`-cf/tmp/o.tar`, `-T.env`) or else
        // the next word.
        let (bundle, old_style) =
            if i == 0 && !a.starts_with('-') && a.chars().all(|c| c.is_ascii_alphabetic()) {
                (Some(*a), true)
            } else {
                (
                    a.strip_prefix('-')
                        .filter(|b| !b.starts_with('-') && !b.is_empty()),
                    false,
                )
            };
        if let Some(b) = bundle {
            let mut next = i;
            for (at, c) in b.char_indices() {
                match c {
                    'c' | 'r' | 'u' | 'A' => create = true,
                    'x' => extract = true,
                    'P' => absolute = true,
                    'f' | 'C' | 'T' | 'X' | 'b' | 'H' | 'K' | 'L' | 'N' | 'V' | 'I' | 'F' => {
                        let joined = b.get(at + 1..).filter(|r| !r.is_empty() && !old_style);
                        let v = match joined {
                            Some(r) => Some(r),
                            None => {
                                next += 1;
                                args.get(next).copied()
                            }
                        };
                        match c {
                            'f' => archive = v,
                            'C' => dir = v,
                            'T' | 'X' => out.extend(v.map(|v| mk(FileMode::Read, v))),
                            _ => {}
                        }
                        if joined.is_some() {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            i = next;
        } else if let Some(long) = a.strip_prefix("--") {
            let (given, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            // Exact names first, then GNU abbreviations (`--files-fr`).
            const LONG: &[&str] = &[
                "file",
                "directory",
                "files-from",
                "exclude-from",
                "create",
                "append",
                "update",
                "concatenate",
                "extract",
                "get",
                "absolute-names",
            ];
            let name = LONG
                .iter()
                .find(|n| **n == given)
                .or_else(|| {
                    LONG.iter()
                        .find(|n| given.len() >= 2 && n.starts_with(given))
                })
                .copied()
                .unwrap_or(given);
            let takes = matches!(name, "file" | "directory" | "files-from" | "exclude-from");
            let value = if takes && value.is_none() {
                i += 1;
                args.get(i).copied()
            } else {
                value
            };
            match name {
                "create" | "append" | "update" | "concatenate" => create = true,
                "extract" | "get" => extract = true,
                "absolute-names" => absolute = true,
                "file" => archive = value,
                "directory" => dir = value,
                "files-from" | "exclude-from" => out.extend(value.map(|v| mk(FileMode::Read, v))),
                _ => {}
            }
        } else {
            operands.push(a);
        }
        i += 1;
    }
    if let Some(f) = archive {
        out.push(mk(
            if create {
                FileMode::Write
            } else {
                FileMode::Read
            },
            f,
        ));
    }
    if create {
        out.extend(operands.iter().map(|p| FileAccess {
            tree: true,
            ..mk(FileMode::Read, p)
        }));
        // `tar -C DIR -c NAMES` reads DIR/NAMES.
        if let Some(d) = dir.filter(|_| !extract) {
            out.extend(
                operands
                    .iter()
                    .filter(|p| !p.starts_with('/') && !p.starts_with('~'))
                    .map(|p| FileAccess {
                        tree: true,
                        ..mk(FileMode::Read, &format!("{}/{p}", d.trim_end_matches('/')))
                    }),
            );
        }
    }
    if extract {
        out.push(FileAccess {
            tree: true,
            ..mk(FileMode::Write, dir.unwrap_or("."))
        });
        // `-P` keeps members' leading `/` and `..`: they land anywhere.
        if absolute {
            out.push(FileAccess {
                tree: true,
                ..mk(FileMode::Write, "/")
            });
        }
    }
    out
}

/// The program of a `sed` command line (`Ok(None)` under `--sandbox`,
/// which forbids `e`, `r` and `w`; `Err` when it is read from a file).
pub(crate) fn sed_program(args: &[&str]) -> Result<Option<String>, ()> {
    if args
        .iter()
        .take_while(|a| **a != "--")
        .any(|a| *a == "--sandbox")
    {
        return Ok(None);
    }
    // Joined and abbreviated forms (`-e'1e …'`, `-ne`, `--expr=`, `-f/x`)
    // are not followed: the program is then treated as unknown.
    if args.iter().take_while(|a| **a != "--").any(|a| {
        (a.starts_with("-e") && a.len() > 2)
            || (a.starts_with("-f") && a.len() > 2)
            || (a.starts_with("--e") && !a.starts_with("--expression"))
            || (a.starts_with("--f") && !a.starts_with("--file") && !a.starts_with("--follow"))
            || (a.starts_with('-')
                && !a.starts_with("--")
                && a.len() > 2
                && a.get(1..).is_some_and(|f| f.contains(['e', 'f'])))
    }) {
        return Err(());
    }
    let Getopt {
        operands,
        values: opt_values,
        ..
    } = getopt(args, value_opts("sed"), optional_joined("sed"));
    if opt_values
        .iter()
        .any(|(o, _)| matches!(*o, "-f" | "--file"))
    {
        return Err(());
    }
    Ok(Some(sed_script(&operands, &opt_values)))
}

/// The program of an `awk` command line (`Err` when read with `-f`).
pub(crate) fn awk_program(args: &[&str]) -> Result<Option<String>, ()> {
    // gawk's `--source`, `-e`, `-i`, `-l` and joined `-f…` add code the
    // program text does not show. gawk also takes any unambiguous
    // abbreviation of a long option (`--so` is `--source`), and `-W NAME`
    // is `--NAME`: those that may add code are refused, as is every `-W`.
    let adds_code = |a: &str| {
        a.strip_prefix("--").is_some_and(|long| {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            !name.is_empty()
                && ["source", "include", "load", "exec", "file"]
                    .iter()
                    .any(|full| full.starts_with(name))
        }) || a.starts_with("-W")
    };
    if args.iter().take_while(|a| **a != "--").any(|a| {
        adds_code(a)
            || a.starts_with("--source")
            || a.starts_with("--include")
            || a.starts_with("--load")
            || a.starts_with("--exec")
            || matches!(*a, "-e" | "-i" | "-l" | "-E")
            || ((a.starts_with("-f")
                || a.starts_with("-e")
                || a.starts_with("-i")
                || a.starts_with("-l"))
                && a.len() > 2)
    }) {
        return Err(());
    }
    let Getopt {
        operands,
        values: opt_values,
        ..
    } = getopt(args, value_opts("awk"), &[]);
    if opt_values
        .iter()
        .any(|(o, _)| matches!(*o, "-f" | "--file"))
    {
        return Err(());
    }
    Ok(operands.first().map(|p| (*p).to_string()))
}

/// The text of a `sed` script: every `-e` value, else the first operand; a
/// script read with `-f` is not known.
fn sed_script(operands: &[&str], opt_values: &[(&str, &str)]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut from_file = false;
    for (o, v) in opt_values {
        match *o {
            "-e" | "--expression" => parts.push(v),
            "-f" | "--file" => from_file = true,
            _ => {}
        }
    }
    if parts.is_empty() && !from_file {
        parts.extend(operands.first());
    }
    parts.join("\n")
}

/// A command line read the way getopt reads it.
#[derive(Default)]
struct Getopt<'a> {
    /// The words that are not options (and every word after `--`).
    operands: Vec<&'a str>,
    /// The values of value options, each under its listed spelling.
    values: Vec<(&'a str, &'a str)>,
    /// The letters of short flags: a cluster up to its first value option
    /// (`-rn`; `-ePAT` is `-e` with the value `PAT`).
    shorts: Vec<char>,
    /// Long options as written, without `=VALUE` (`--recursive`, `--hid`).
    longs: Vec<&'a str>,
}

/// Reads `args` the way getopt does: a value option takes the rest of its
/// word or the next word (`-oFILE`, `-o FILE`, `-uoFILE`), a cluster of
/// flags ends at the first value option, and `--name=VALUE` or `--name
/// VALUE` may abbreviate a long option. An abbreviation without `=` is
/// read both ways: its next word is recorded as the value and read again
/// as a word of its own, so that a misread can only add accesses, never
/// hide one. Letters in `optional` take an optional value joined to them
/// and end their cluster.
fn getopt<'a>(args: &[&'a str], value_opts: &[&'a str], optional: &[char]) -> Getopt<'a> {
    let mut g = Getopt::default();
    let mut i = 0;
    let mut only_operands = false;
    let long_matches = |name: &str| -> Vec<&str> {
        if value_opts.contains(&name) {
            return vec![];
        }
        value_opts
            .iter()
            .filter(|o| o.starts_with("--") && name.len() > 2 && o.starts_with(name))
            .copied()
            .collect()
    };
    while let Some(a) = args.get(i) {
        if only_operands || !a.starts_with('-') || *a == "-" {
            g.operands.push(*a);
        } else if *a == "--" {
            only_operands = true;
        } else if value_opts.contains(a) {
            if let Some(v) = args.get(i + 1) {
                g.values.push((*a, *v));
            }
            i += 1;
        } else if let Some(long) = a.strip_prefix("--") {
            let (name_len, joined) = match long.split_once('=') {
                Some((n, v)) => (n.len() + 2, Some(v)),
                None => (a.len(), None),
            };
            let name = a.get(..name_len).unwrap_or(a);
            g.longs.push(name);
            if let Some(v) = joined {
                if let Some(o) = value_opts.iter().find(|o| **o == name) {
                    g.values.push((*o, v));
                }
                for o in long_matches(name) {
                    g.values.push((o, v));
                }
            } else if let Some(v) = args.get(i + 1) {
                for o in long_matches(name) {
                    g.values.push((o, *v));
                }
            }
        } else {
            // A cluster of short options: `-n5`, `-uoFILE`, `-rnA3`.
            let mut rest = a.get(1..).unwrap_or("");
            while let Some(c) = rest.chars().next() {
                let after = rest.get(c.len_utf8()..).unwrap_or("");
                if optional.contains(&c) {
                    break;
                }
                if let Some(o) = value_opts
                    .iter()
                    .find(|o| o.len() == 2 && o.ends_with(c) && o.starts_with('-'))
                {
                    if after.is_empty() {
                        if let Some(v) = args.get(i + 1) {
                            g.values.push((*o, *v));
                        }
                        i += 1;
                    } else {
                        g.values.push((*o, after));
                    }
                    break;
                }
                g.shorts.push(c);
                rest = after;
            }
        }
        i += 1;
    }
    g
}

/// Devices that are streams, not storage: reading or writing them changes
/// no file.
/// Exactly a character stream: a fixed name, or a numbered descriptor or
/// terminal. Anything else under `/dev/` is a path like any other:
/// `/dev/fd/../cwd/.env` is `/proc/self/cwd/.env`, the working directory's
/// `.env` (`/dev/fd` is a link, so its `..` is not `/dev`).
pub(crate) fn is_stream_device(p: &str) -> bool {
    matches!(
        p,
        "/dev/null"
            | "/dev/zero"
            | "/dev/full"
            | "/dev/random"
            | "/dev/urandom"
            | "/dev/stdin"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/tty"
    ) || is_fd_path(p)
        || numbered(p, "/dev/pts/")
}

/// `/dev/fd/N` or `/proc/self/fd/N`, N a number: an open descriptor.
pub(crate) fn is_fd_path(p: &str) -> bool {
    numbered(p, "/dev/fd/") || numbered(p, "/proc/self/fd/")
}

fn numbered(p: &str, prefix: &str) -> bool {
    p.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a jq program has an `import` or `include` statement (the
/// keyword, blanks, then a quoted module path), not merely the word
/// (`.include`, `.scripts.import`).
fn jq_imports(program: &str) -> bool {
    ["import", "include"].iter().any(|kw| {
        program.match_indices(kw).any(|(i, _)| {
            let before = program.get(..i).and_then(|b| b.chars().next_back());
            let after = program.get(i + kw.len()..).unwrap_or("");
            let trimmed = after.trim_start();
            before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '$'))
                && trimmed.len() < after.len()
                && trimmed.starts_with('"')
        })
    })
}

/// The globs of a comma list with one level of braces
/// (`*.{pem,key},x` is `*.pem`, `*.key`, `x`).
fn brace_alternatives(globs: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in globs.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(globs.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(globs.get(start..).unwrap_or(""));
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        match (p.find('{'), p.find('}')) {
            (Some(a), Some(b)) if a < b => {
                let (head, tail) = (p.get(..a).unwrap_or(""), p.get(b + 1..).unwrap_or(""));
                for alt in p.get(a + 1..b).unwrap_or("").split(',') {
                    out.push(format!("{head}{alt}{tail}"));
                }
            }
            _ => out.push(p.to_string()),
        }
    }
    out
}
