//! Bash-grade command analysis.
//!
//! An agent hands CAVRA a command line as one string. Matching policy patterns
//! against that string is how guards get bypassed: `r''m`, `"r"m`, `$'\x72m'`,
//! `sudo`, `sh -c "…"`, `a && b`, `$(…)` all change the text without changing
//! what bash runs. This crate parses the line with a real bash grammar
//! (brush-parser), removes quoting the way bash does, resolves literal variable
//! assignments made earlier on the same line, strips wrappers (`sudo`, `env`,
//! `xargs`, `find -exec`, …), follows nested scripts (`sh -c`, `eval`,
//! here-documents and pipes into a shell) and returns every simple command that
//! would run, each as an argument vector.
//!
//! The analysis is total: it never panics and always returns. Anything it
//! cannot see through is reported as an [`Issue`]; callers must never turn an
//! analysis with issues into `allow` (see `cavra-policy`).

mod expand;
mod files;
mod scripts;
mod walk;

pub use files::{FileAccess, FileMode, UNKNOWN_CWD, file_accesses, unmodelled_path_words};
pub use walk::analyze_with_limits;

use serde::Serialize;

/// Bounds that keep analysis fast on hostile input.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest command line analysed, in bytes.
    pub max_bytes: usize,
    /// Deepest bracket nesting handed to the parser.
    pub max_nesting: usize,
    /// Most simple commands collected from one line.
    pub max_commands: usize,
    /// Deepest chain of nested scripts (`sh -c`, `eval`, `$(…)`).
    pub max_recursion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024,
            max_nesting: 64,
            max_commands: 512,
            max_recursion: 12,
        }
    }
}

/// The result of analysing one command line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// Every simple command that would run, in source order; what a wrapper
    /// does itself (`xargs -a FILE`, `env GIT_SSH_COMMAND=…`) follows the
    /// command it wraps.
    pub commands: Vec<SimpleCommand>,
    /// Pipelines of two or more stages, as indices into `commands`: the
    /// first command each stage runs.
    pub pipelines: Vec<Vec<usize>>,
    /// For each pipeline of `pipelines`, every command each stage may run:
    /// all commands of a compound stage (`{ echo; curl …; } | sh`) and the
    /// body of a function defined earlier on the line (`f | sh`). Data
    /// written by any of them reaches the next stage.
    pub pipeline_members: Vec<Vec<Vec<usize>>>,
    /// Everything the analysis could not see through.
    pub issues: Vec<Issue>,
}

impl Analysis {
    /// True when nothing in the line escaped the analysis.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

/// One simple command after quote removal and wrapper stripping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimpleCommand {
    /// Argument vector; `argv[0]` is the program's basename.
    pub argv: Vec<String>,
    /// The program as written (may be a path such as `/usr/bin/terraform`).
    pub program: String,
    /// Wrappers and contexts this command was found inside, outermost first
    /// (`sudo`, `bash -c`, `$(…)`, `xargs`, …).
    pub via: Vec<String>,
    /// File redirections of this command.
    pub redirects: Vec<Redirect>,
    /// Arguments that are not statically known (unresolved `$VAR`, `$(…)`,
    /// arguments appended by `xargs`).
    pub dynamic_args: bool,
    /// Per word of `argv`: it stays one word whatever its unknown parts
    /// hold (literal, or each expansion double-quoted: `-m "$MSG"`). A word
    /// without an entry may be several words or none.
    pub single_words: Vec<bool>,
    /// Arguments containing unquoted glob characters that bash would expand.
    pub glob_args: bool,
    /// Found inside code of another language (`python -c`); the command may or
    /// may not run.
    pub speculative: bool,
    /// A wrapper or shell itself (`sudo -u root rm -rf x`, `bash -c '…'`),
    /// its words including the command it runs. Policies judge it by their
    /// restrictive command rules only (so `sudo*` can need approval); the
    /// command it runs, and the files that touches, are commands of their
    /// own.
    pub wrapper: bool,
    /// The directory the command runs in, relative to the line's starting
    /// directory, after earlier `cd`/`pushd` on the same line (`""` when
    /// unchanged; may be absolute or start with `~`).
    pub cwd: String,
    /// An earlier `cd` went somewhere not statically known (`cd "$D"`,
    /// `cd -`, `popd`): relative paths of this command are not known.
    pub cwd_unknown: bool,
    /// Which program a name runs may have changed earlier on the line:
    /// `PATH` set to anything but system directories, `hash -p`, `alias`.
    pub lookup_changed: bool,
}

/// Directories holding the system's programs (root-owned on a normal
/// installation), where a program's name can be trusted to mean it.
pub fn is_system_bin_dir(dir: &str) -> bool {
    matches!(
        dir.trim_end_matches('/'),
        "/bin"
            | "/sbin"
            | "/usr/bin"
            | "/usr/sbin"
            | "/usr/local/bin"
            | "/usr/local/sbin"
            | "/opt/homebrew/bin"
            | "/opt/homebrew/sbin"
    )
}

impl SimpleCommand {
    /// Whether the program's name means the program of that name: it was
    /// not given as a path outside the system directories (`/tmp/x/ls`,
    /// `./cat`) and nothing on the line changed how names are looked up.
    pub fn trusted_name(&self) -> bool {
        !self.lookup_changed
            && match self.program.rsplit_once('/') {
                None => true,
                Some((dir, _)) => is_system_bin_dir(if dir.is_empty() { "/" } else { dir }),
            }
    }

    /// The program's basename, or `""` for a command that is only redirections.
    pub fn name(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }

    /// The argument vector joined with single spaces.
    pub fn line(&self) -> String {
        self.argv.join(" ")
    }
}

/// A file redirection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// Whether the file is read or written.
    pub mode: FileMode,
    /// The target as bash would see it after quote removal.
    pub path: String,
    /// False when the target is not statically known.
    pub literal: bool,
}

/// Something the analysis could not see through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Issue {
    /// The line is not valid bash.
    Unparseable { message: String },
    /// The line is longer than the configured limit.
    TooLong { bytes: usize, limit: usize },
    /// Brackets nest deeper than the configured limit.
    TooDeep { limit: usize },
    /// More simple commands than the configured limit.
    TooManyCommands { limit: usize },
    /// Nested scripts (`sh -c`, `eval`, `$(…)`) nest deeper than the limit.
    RecursionLimit { limit: usize },
    /// The command name is not a literal (`$X apply`, `$(echo rm)`, `r*`).
    NonLiteralCommand { word: String },
    /// A shell reads a script whose text is not statically known
    /// (`curl … | sh`, `bash -c "$X"`, `eval "$X"`).
    UnknownScript { shell: String },
    /// Arithmetic or another construct that may run commands we cannot see.
    Opaque { construct: String },
}

impl Issue {
    /// A short human description.
    pub fn describe(&self) -> String {
        match self {
            Issue::Unparseable { message } => format!("command does not parse: {message}"),
            Issue::TooLong { bytes, limit } => {
                format!("command is {bytes} bytes, over the {limit}-byte analysis limit")
            }
            Issue::TooDeep { limit } => format!("command nests deeper than {limit} levels"),
            Issue::TooManyCommands { limit } => {
                format!("command line holds more than {limit} commands")
            }
            Issue::RecursionLimit { limit } => {
                format!("nested scripts go deeper than {limit} levels")
            }
            Issue::NonLiteralCommand { word } => {
                format!("command name `{word}` is not a literal")
            }
            Issue::UnknownScript { shell } => {
                format!("`{shell}` runs a script whose text is not statically known")
            }
            Issue::Opaque { construct } => format!("cannot analyse {construct}"),
        }
    }
}

/// Analyse a command line with the default [`Limits`].
pub fn analyze(command: &str) -> Analysis {
    analyze_with_limits(command, &Limits::default())
}

/// Runs a third-party parser call, turning a panic inside it into `None`
/// (analysis must be total; a parser bug must not take down a hook).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Whether `text` has a run of digits directly before `<` or `>` whose
/// value does not fit an `i32` (a redirection such as `99999999999>x`).
pub(crate) fn has_oversized_io_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if matches!(bytes.get(i), Some(b'<' | b'>'))
                && text
                    .get(start..i)
                    .is_some_and(|n| n.parse::<i32>().is_err())
            {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// Whether `argv` (program basename first) is a shell that reads its script
/// from standard input: `sh`, `bash -s -- x`, `zsh -`, `sudo`-free and
/// without `-c` or a script file. Such a stage at the end of a pipeline runs
/// whatever the stages before it print, whichever shell it is.
pub fn shell_reads_stdin(argv: &[String]) -> bool {
    let Some((name, mut args)) = argv.split_first() else {
        return false;
    };
    if name == "busybox" {
        match args.split_first() {
            Some((sh, rest)) if walk::SHELLS.contains(&sh.as_str()) && sh != "busybox" => {
                args = rest;
            }
            _ => return false,
        }
    } else if !walk::SHELLS.contains(&name.as_str()) {
        return false;
    }
    let mut i = 0;
    while let Some(t) = args.get(i) {
        let t = t.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
            if !t.starts_with("--") && t.contains('c') {
                return false;
            }
            if !t.starts_with("--") && t.contains('s') {
                return true;
            }
            if matches!(t, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
                i += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    args.get(i).is_none_or(|s| s == "-")
}

/// The basename of a program path (`/usr/bin/terraform` → `terraform`).
pub fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

#[cfg(test)]
mod tests;
