//! The AST walk: lists, pipelines, compound commands, wrappers and nested
//! scripts down to simple commands.

use std::collections::HashMap;
use std::io::Cursor;

use brush_parser::ast::{
    self, AndOr, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList,
    IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline,
};
use brush_parser::{Parser, ParserOptions};

use crate::expand::{Expanded, Field, arithmetic_code, expand_word, holds_code, word_code};
use crate::scripts::{self, Effect};
use crate::{Analysis, FileMode, Issue, Limits, Redirect, SimpleCommand, basename};

/// Analyse `command` within `limits`.
pub fn analyze_with_limits(command: &str, limits: &Limits) -> Analysis {
    let mut w = Walker {
        limits: *limits,
        out: Analysis::default(),
        vars: HashMap::new(),
        depth: 0,
        cwd: Some(String::new()),
        cdpath: false,
        lookup_changed: false,
        procsub_out: None,
        functions: HashMap::new(),
        bodies: HashMap::new(),
        calls: 0,
        call_walks: 0,
        rewalks: 0,
    };
    w.script(command, &[], false);
    dedup_issues(&mut w.out.issues);
    w.out
}

fn dedup_issues(issues: &mut Vec<Issue>) {
    let mut seen = Vec::new();
    issues.retain(|i| {
        if seen.contains(i) {
            false
        } else {
            seen.push(i.clone());
            true
        }
    });
}

/// What a pipeline stage receives on standard input.
#[derive(Clone, Debug)]
enum Stdin {
    /// The terminal or whatever the agent gave; not produced on this line.
    Inherited,
    /// Text produced by an earlier stage that we know statically.
    Known(String),
    /// Output of an earlier stage we cannot predict.
    Unknown,
}

struct Walker {
    limits: Limits,
    out: Analysis,
    /// Literal assignments seen earlier on the line.
    vars: HashMap<String, String>,
    depth: usize,
    /// Working directory after the `cd`s seen so far (see
    /// [`SimpleCommand::cwd`]); `None` once it is not statically known.
    cwd: Option<String>,
    /// Index of the last command a process substitution (`<(…)`) of the
    /// current simple command produced.
    procsub_out: Option<usize>,
    /// Commands of the body of each function defined so far, by name.
    functions: HashMap<String, std::ops::Range<usize>>,
    /// The body of each function defined so far, walked again where it is
    /// called: with the variables and directory of that moment.
    bodies: HashMap<String, ast::CompoundCommand>,
    /// Function calls being walked, one inside another.
    calls: usize,
    /// Function bodies walked at calls so far (bounded: `f(){ f; f; }`).
    call_walks: usize,
    /// Loop bodies walked a second time so far (bounded: nested loops).
    rewalks: usize,
    /// `CDPATH` was set on the line: a later `cd NAME` may go to a
    /// directory below any of its entries.
    cdpath: bool,
    /// See [`SimpleCommand::lookup_changed`].
    lookup_changed: bool,
}

/// Environment variables whose value is a command some program runs.
const SCRIPT_VARS: &[&str] = &[
    "GIT_PAGER",
    "PAGER",
    "MANPAGER",
    "GIT_EDITOR",
    "EDITOR",
    "VISUAL",
    "GIT_SEQUENCE_EDITOR",
    "GIT_SSH_COMMAND",
    "GIT_SSH",
    "GIT_EXTERNAL_DIFF",
    "KUBECTL_EXTERNAL_DIFF",
    "KUBE_EDITOR",
    "SUDO_EDITOR",
    "FCEDIT",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "GIT_PROXY_COMMAND",
    "LESSOPEN",
    "LESSCLOSE",
    "PROMPT_COMMAND",
    "BROWSER",
    // gh runs these as commands.
    "GH_BROWSER",
    "GH_PAGER",
    "GH_EDITOR",
];

/// Environment variables that make programs load code from elsewhere.
const CODE_VARS: &[&str] = &[
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "BASH_ENV",
    "ENV",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "PERL5OPT",
    "RUBYOPT",
    "PYTHONSTARTUP",
    "GIT_ALLOW_PROTOCOL",
    // valgrind reads options from it: output files, tools, suppressions.
    "VALGRIND_OPTS",
    // Plugins pytest imports (`PYTHONPATH` is judged by its entries).
    "PYTEST_PLUGINS",
    "PYTEST_ADDOPTS",
    // Programs the Rust and Go toolchains run (`RUSTFLAGS`, `CC` and
    // `RUSTUP_TOOLCHAIN` are judged by their value).
    "RUSTC",
    "RUSTDOC",
    "CGO_CFLAGS",
    "CGO_LDFLAGS",
    "GOENV",
    "GOROOT",
    // Where Python finds its standard library and user site-packages
    // (whose `.pth` files run at start-up); a warning category is a module
    // Python imports.
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONWARNINGS",
    // The Python and arguments the gcloud launcher runs, unquoted; Azure
    // CLI extensions.
    "CLOUDSDK_PYTHON",
    "CLOUDSDK_PYTHON_ARGS",
    "AZURE_EXTENSION_DIR",
];

/// A cargo option that can make it run other code: `--config` setting
/// anything but `profile.*`/`term.*` (a runner, a linker, a rustc wrapper,
/// an alias, a source replacement) or naming a file, and a
/// `--manifest-path` outside the repository.
fn cargo_risky_option(args: &[Field]) -> Option<String> {
    let mut i = 0;
    while let Some(f) = args.get(i) {
        i += 1;
        let t = f.text.as_str();
        if t == "--" {
            break;
        }
        if t == "-C" || (t.starts_with("-C") && t.len() > 2 && !t.starts_with("--")) {
            let v = if t == "-C" {
                i += 1;
                args.get(i - 1).map(|f| (f.literal, f.text.clone()))
            } else {
                Some((f.literal, t.get(2..).unwrap_or("").to_string()))
            };
            if v.is_none_or(|(lit, v)| !lit || outside_repo(&v)) {
                return Some("-C".to_string());
            }
            continue;
        }
        for opt in ["--config", "--manifest-path"] {
            let value = match option_spelling(t, opt) {
                Some(Spelt::Next) => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                Some(Spelt::Joined(v)) => Some(Field {
                    text: v.to_string(),
                    ..f.clone()
                }),
                None => continue,
            };
            let risky = value.as_ref().is_none_or(|v| {
                let text = v.text.as_str();
                !v.literal
                    || if opt == "--config" {
                        let key = text.split('=').next().unwrap_or("").trim();
                        !text.contains('=')
                            || !(key.starts_with("profile.") || key.starts_with("term."))
                    } else {
                        outside_repo(text)
                    }
            });
            if risky {
                return Some(opt.to_string());
            }
        }
    }
    None
}

/// Whether a path named on the line may lie outside the repository:
/// absolute, in a home directory, or climbing with `..`.
fn outside_repo(path: &str) -> bool {
    path.starts_with(['/', '~']) || path.split('/').any(|c| c == "..")
}

/// npm settings (as `npm_config_*` keys) that run code or move where npm
/// reads its settings from.
const NPM_RISKY: &[&str] = &[
    "node_options",
    "script_shell",
    "shell",
    "userconfig",
    "globalconfig",
    "prefix",
    "onload_script",
    "init_module",
    "git",
    "node_gyp",
];

/// Whether a `RUSTFLAGS`-like value holds anything but lint levels,
/// `--cfg`, `--cap-lints` and codegen options that change no program run
/// (`-C linker=PROG`, `-C link-arg=…`, `-Z …`, `--extern` do).
fn risky_rustflags(value: &str) -> bool {
    const SAFE_CODEGEN: &[&str] = &[
        "opt-level",
        "debuginfo",
        "target-cpu",
        "target-feature",
        "overflow-checks",
        "debug-assertions",
        "incremental",
        "force-frame-pointers",
        "strip",
        "panic",
        "lto",
        "codegen-units",
        "embed-bitcode",
        "relocation-model",
        "symbol-mangling-version",
        "instrument-coverage",
    ];
    let mut words = value.split_whitespace();
    while let Some(w) = words.next() {
        let (flag, joined) = if let Some(rest) = w.strip_prefix("-C") {
            ("-C", rest)
        } else if let Some(rest) = w.strip_prefix("--codegen") {
            ("-C", rest.trim_start_matches('='))
        } else if let Some(rest) = w.strip_prefix("--cfg") {
            ("--cfg", rest.trim_start_matches('='))
        } else if let Some(rest) = w.strip_prefix("--cap-lints") {
            ("--cap-lints", rest.trim_start_matches('='))
        } else if ["-D", "-W", "-A", "-F"].iter().any(|p| w.starts_with(p)) {
            ("-D", w.get(2..).unwrap_or(""))
        } else if ["--deny", "--warn", "--allow", "--forbid"]
            .iter()
            .any(|p| w.starts_with(p))
        {
            ("-D", w.split_once('=').map_or("", |(_, v)| v))
        } else {
            return true;
        };
        let value = if joined.is_empty() {
            match words.next() {
                Some(v) => v,
                None => return true,
            }
        } else {
            joined
        };
        if flag == "-C" {
            let key = value.split('=').next().unwrap_or("");
            if !SAFE_CODEGEN.contains(&key) {
                return true;
            }
        }
    }
    false
}

/// Environment variables that move the configuration programs read (and
/// so the commands it names: `core.fsmonitor` in `$HOME/.gitconfig`, a
/// kubeconfig's `exec` plugin, make's `--eval` in `MAKEFLAGS`) or the file
/// they write (`TF_LOG_PATH`; `GIT_TRACE*` naming a path).
const CONFIG_VARS: &[&str] = &[
    "HOME",
    "XDG_CONFIG_HOME",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "KUBECONFIG",
    "MAKEFLAGS",
    "GNUMAKEFLAGS",
    "MAKEFILES",
    "GOFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "TF_LOG_PATH",
    "TF_CLI_CONFIG_FILE",
    // A `credential_process` in these files runs a command.
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    // Helm loads plugin code from here.
    "HELM_PLUGINS",
    "HELM_DATA_HOME",
    // The terraform binary terragrunt runs.
    "TG_TF_PATH",
    "TERRAGRUNT_TFPATH",
    // ripgrep's configuration file may hold `--pre COMMAND`.
    "RIPGREP_CONFIG_PATH",
    "CLOUDSDK_CONFIG",
    "AZURE_CONFIG_DIR",
    "CARGO_HOME",
    "NPM_CONFIG_USERCONFIG",
    "NPM_CONFIG_GLOBALCONFIG",
];

/// Whether a git configuration key names a command git runs through a
/// shell (`Some(true)`), or makes git load code some other way
/// (`Some(false)`: hook directories, included config files).
fn git_exec_key(key: &str) -> Option<bool> {
    let script = matches!(
        key,
        "core.pager"
            | "core.editor"
            | "core.sshcommand"
            | "core.fsmonitor"
            | "core.askpass"
            | "core.gitproxy"
            | "diff.external"
            | "sequence.editor"
            | "credential.helper"
            | "gpg.program"
            | "uploadpack.packobjectshook"
            | "web.browser"
            | "gpg.ssh.defaultkeycommand"
            | "core.alternaterefscommand"
            | "interactive.difffilter"
    ) || key.starts_with("pager.")
        // Config-based hooks (git 2.54): `hook.<name>.command`.
        || (key.starts_with("hook.") && key.ends_with(".command"))
        || (key.starts_with("trailer.") && (key.ends_with(".cmd") || key.ends_with(".command")))
        || (key.starts_with("submodule.") && key.ends_with(".update"))
        || (key.starts_with("sendemail.") && key.ends_with("cmd"))
        || (key.starts_with("credential.") && key.ends_with(".helper"))
        || (key.starts_with("gpg.") && key.ends_with(".program"))
        || (key.starts_with("remote.")
            && (key.ends_with(".uploadpack") || key.ends_with(".receivepack")))
        || ((key.starts_with("diff.")
            && (key.ends_with(".textconv") || key.ends_with(".command")))
            || (key.starts_with("merge.") && key.ends_with(".driver"))
            || (key.starts_with("filter.")
                && (key.ends_with(".clean")
                    || key.ends_with(".smudge")
                    || key.ends_with(".process")))
            || ((key.starts_with("difftool.")
                || key.starts_with("mergetool.")
                || key.starts_with("man.")
                || key.starts_with("browser."))
                && (key.ends_with(".cmd") || key.ends_with(".path"))));
    if script {
        return Some(true);
    }
    // Where a remote fetches from (`remote.x.url`, `url.X.insteadOf`):
    // content from anywhere, hook settings included.
    let elsewhere = (key.starts_with("remote.")
        && (key.ends_with(".url") || key.ends_with(".pushurl")))
        || (key.starts_with("url.")
            && (key.ends_with(".insteadof") || key.ends_with(".pushinsteadof")));
    // Keys naming a file git reads into what it writes or sends
    // (`commit.template=.env` puts the secret in a commit message).
    let reads = matches!(
        key,
        "commit.template"
            | "core.excludesfile"
            | "core.attributesfile"
            | "http.sslcainfo"
            | "http.sslcert"
            | "http.sslkey"
            | "http.cookiefile"
            | "blame.ignorerevsfile"
            | "sendemail.aliasesfile"
    );
    // Where and what a push sends (`push.default=matching` pushes every
    // branch of that name, `remote.origin.push=HEAD:main`).
    let pushes = key.starts_with("push.")
        || (key.starts_with("remote.") && key.ends_with(".push"))
        || (key.starts_with("branch.")
            && (key.ends_with(".merge")
                || key.ends_with(".remote")
                || key.ends_with(".pushremote")));
    let code = elsewhere
        || reads
        || pushes
        || key == "core.hookspath"
        || key == "init.templatedir"
        || key == "core.worktree"
        || key == "include.path"
        || key.starts_with("includeif.")
        || key == "protocol.allow"
        || key == "protocol.ext.allow";
    code.then_some(false)
}

/// Shells whose `-c` argument, here-document or piped input is a script.
pub(crate) const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "yash", "busybox",
];

impl Walker {
    fn issue(&mut self, issue: Issue) {
        self.out.issues.push(issue);
    }

    /// Parse and walk a script. `speculative` marks commands found in code of
    /// other languages.
    fn script(&mut self, text: &str, via: &[String], speculative: bool) {
        if self.depth > self.limits.max_recursion {
            self.issue(Issue::RecursionLimit {
                limit: self.limits.max_recursion,
            });
            return;
        }
        if text.len() > self.limits.max_bytes {
            self.issue(Issue::TooLong {
                bytes: text.len(),
                limit: self.limits.max_bytes,
            });
            return;
        }
        if nesting_depth(text) > self.limits.max_nesting {
            self.issue(Issue::TooDeep {
                limit: self.limits.max_nesting,
            });
            return;
        }
        if let Some(words) = plain_words(text) {
            // A line of plain words needs no grammar: bash would split it on
            // blanks and expand nothing. Same result, a fraction of the cost.
            let fields = words
                .into_iter()
                .map(|w| Field {
                    text: w.to_string(),
                    literal: true,
                    ..Field::default()
                })
                .collect();
            self.depth += 1;
            self.dispatch(
                fields,
                Vec::new(),
                via.to_vec(),
                speculative,
                &Stdin::Inherited,
                0,
            );
            self.depth -= 1;
            return;
        }
        let options = ParserOptions::default();
        if crate::has_oversized_io_number(text) {
            // brush-parser panics on an IO number that does not fit an int
            // (found by fuzzing); such input is refused before parsing.
            self.issue(Issue::Unparseable {
                message: "a redirection file descriptor number is too large".into(),
            });
            return;
        }
        // Constructs the shell parser reads otherwise than bash does: the
        // analysis would judge another line than the one that runs.
        if let Some(what) = parser_disagreement(text) {
            self.issue(Issue::Unparseable {
                message: format!("{what}, which the analysis cannot read as bash does"),
            });
            return;
        }
        let parsed = crate::guarded(|| {
            let mut parser = Parser::new(Cursor::new(text.as_bytes()), &options);
            parser.parse_program()
        });
        let program = match parsed {
            Some(Ok(p)) => p,
            None => {
                // The parser itself failed (found by fuzzing: an IO number
                // too large for an int panics inside brush-parser).
                self.issue(Issue::Unparseable {
                    message: "the shell parser could not process this input".into(),
                });
                return;
            }
            Some(Err(e)) => {
                if !speculative {
                    self.issue(Issue::Unparseable {
                        message: e.to_string(),
                    });
                }
                return;
            }
        };
        self.depth += 1;
        for list in &program.complete_commands {
            self.compound_list(list, via, speculative);
        }
        self.depth -= 1;
    }

    fn compound_list(&mut self, list: &CompoundList, via: &[String], spec: bool) {
        for item in &list.0 {
            // A `cd` in the first pipeline of `a && b || c` always runs; one
            // in a later pipeline may not, so afterwards the directory is
            // unknown. `cd x || cmd` runs `cmd` only where the cd failed.
            let start = self.cwd.clone();
            let background = matches!(item.1, ast::SeparatorOperator::Async);
            let vars_start = background.then(|| self.vars.clone());
            self.pipeline(&item.0.first, via, spec);
            // What a later pipeline assigns holds for the pipelines after
            // it while the list is all `&&` (`mkdir out && D=out && touch
            // $D/x`); once an `||` joins it, a pipeline may run although an
            // earlier one was skipped (`true || c=echo && $c`), and after
            // the list the assignment may not have run at all.
            let after_first = if item.0.additional.is_empty() {
                HashMap::new()
            } else {
                self.vars.clone()
            };
            let mut all_and = true;
            for next in &item.0.additional {
                match next {
                    AndOr::And(p) => {
                        if !all_and {
                            self.forget_changed(&after_first);
                        }
                        self.pipeline(p, via, spec)
                    }
                    AndOr::Or(p) => {
                        all_and = false;
                        self.forget_changed(&after_first);
                        if self.cwd != start {
                            self.cwd = None;
                        }
                        self.pipeline(p, via, spec);
                    }
                }
            }
            if !item.0.additional.is_empty() {
                self.forget_changed(&after_first);
            }
            if let Some(vars) = vars_start {
                // `cd x &` runs in the background, in a subshell, and so do
                // its assignments (`c=echo & $c -rf /` runs the old `c`).
                self.cwd = start;
                self.vars = vars;
            } else if self.cwd != start {
                // The `cd` may have failed: commands after `;` run either
                // way, in a directory that is not known for sure.
                self.cwd = None;
            }
        }
    }

    /// Runs `f` (a branch, loop body or function body that may not run, or
    /// run more than once): a `cd` inside leaves the directory unknown.
    /// Its assignments leave their variables unknown (`false && c=echo`,
    /// `if false; then x=README.md; fi`).
    fn maybe_runs(&mut self, f: impl FnOnce(&mut Self)) {
        let before = self.cwd.clone();
        let vars = self.vars.clone();
        f(self);
        if self.cwd != before {
            self.cwd = None;
        }
        self.forget_changed(&vars);
    }

    /// A loop body: walked once, then, when that changed a variable or the
    /// directory, again with those unknown, as a second round would start
    /// (`c=echo; while :; do $c -rf ~; c=rm; done`).
    fn repeats(&mut self, f: impl Fn(&mut Self)) {
        let cwd = self.cwd.clone();
        let vars = self.vars.clone();
        f(self);
        let moved = self.cwd != cwd;
        if self.vars == vars && !moved {
            return;
        }
        self.forget_changed(&vars);
        if moved {
            self.cwd = None;
        }
        if self.rewalks < 64 {
            self.rewalks += 1;
            f(self);
        } else {
            self.issue(Issue::Opaque {
                construct: "loops that change what they use, nested too deeply".into(),
            });
        }
    }

    /// Every variable whose value differs from `before` (set, changed,
    /// unset, made unknown) becomes unknown: the code that changed it may
    /// not have run.
    fn forget_changed(&mut self, before: &HashMap<String, String>) {
        if self.vars == *before {
            return;
        }
        let unknown = crate::expand::UNKNOWN_VAR;
        let numeric = crate::expand::NUMERIC_VAR;
        let mut names: Vec<String> = before
            .keys()
            .chain(self.vars.keys())
            .filter(|k| !k.starts_with(numeric))
            .map(|k| k.trim_start_matches(unknown).to_string())
            .collect();
        names.sort();
        names.dedup();
        for n in names {
            let u = format!("{unknown}{n}");
            let was = (before.get(&n), before.contains_key(&u));
            let is = (self.vars.get(&n), self.vars.contains_key(&u));
            if was != is {
                // A number stays a number, known or not.
                if self.vars.contains_key(&format!("{numeric}{n}")) {
                    self.set_numeric(n);
                } else {
                    self.set_var(n, None);
                }
            }
        }
    }

    /// A list run in a subshell (`<(…)`): its `cd` and its assignments do
    /// not outlive it.
    fn subshell_list(&mut self, list: &CompoundList, via: &[String], spec: bool) {
        let saved = self.cwd.clone();
        let vars = self.vars.clone();
        self.compound_list(list, via, spec);
        self.cwd = saved;
        self.vars = vars;
    }

    fn pipeline(&mut self, p: &Pipeline, via: &[String], spec: bool) {
        let mut stages = Vec::new();
        let mut stdin = Stdin::Inherited;
        let saved = self.cwd.clone();
        let vars = self.vars.clone();
        for (k, cmd) in p.seq.iter().enumerate() {
            let before = self.out.commands.len();
            self.command(cmd, via, spec, &stdin);
            if p.seq.len() > 1 {
                // Each stage of a pipeline runs in its own subshell; the
                // last one may run in this shell (`shopt -s lastpipe`), so
                // what it assigns is unknown rather than undone.
                self.cwd = saved.clone();
                if k + 1 < p.seq.len() {
                    self.vars = vars.clone();
                } else {
                    self.forget_changed(&vars);
                }
            }
            let produced = self.out.commands.get(before..).unwrap_or(&[]);
            // A wrapper's own record does not write to the pipe: `sudo
            // echo X | sh` still pipes what `echo` prints.
            let mut writers = produced.iter().filter(|c| !c.wrapper);
            stdin = match (writers.next(), writers.next()) {
                (Some(first), None) => known_output(first),
                _ => Stdin::Unknown,
            };
            if self.out.commands.len() > before {
                let mut members: Vec<usize> = (before..self.out.commands.len()).collect();
                // A call of a function defined earlier runs its body.
                if let [only] = produced
                    && !only.wrapper
                    && let Some(body) = self.functions.get(only.name())
                {
                    members.extend(body.clone());
                }
                stages.push(members);
            }
        }
        if stages.len() > 1 {
            self.push_pipeline(stages);
        }
    }

    /// Record a pipeline; each stage lists the commands it may run, the
    /// first being the command the stage starts with.
    fn push_pipeline(&mut self, stages: Vec<Vec<usize>>) {
        let firsts = stages.iter().filter_map(|s| s.first().copied()).collect();
        self.out.pipelines.push(firsts);
        self.out.pipeline_members.push(stages);
    }

    fn command(&mut self, cmd: &Command, via: &[String], spec: bool, stdin: &Stdin) {
        if self.out.commands.len() >= self.limits.max_commands {
            self.issue(Issue::TooManyCommands {
                limit: self.limits.max_commands,
            });
            return;
        }
        match cmd {
            Command::Simple(sc) => self.simple(sc, via, spec, stdin),
            Command::Compound(c, redirects) => {
                let mut rs = Vec::new();
                if let Some(list) = redirects {
                    for r in &list.0 {
                        self.redirect(r, &mut rs, &mut None, via, spec);
                    }
                }
                if !rs.is_empty() {
                    self.push(SimpleCommand {
                        redirects: rs,
                        via: via.to_vec(),
                        speculative: spec,
                        ..SimpleCommand::default()
                    });
                }
                self.compound(c, via, spec);
            }
            Command::Function(f) => {
                // A function body runs when the function is called; analyse it
                // as if it ran.
                let start = self.out.commands.len();
                self.maybe_runs(|w| w.compound(&f.body.0, via, spec));
                let name = f.fname.value.clone();
                self.functions
                    .insert(name.clone(), start..self.out.commands.len());
                self.bodies.insert(name, f.body.0.clone());
            }
            Command::ExtendedTest(t, _) => self.extended_test(&t.expr, via, spec),
        }
    }

    fn extended_test(&mut self, e: &ast::ExtendedTestExpr, via: &[String], spec: bool) {
        use ast::ExtendedTestExpr as E;
        match e {
            E::And(a, b) | E::Or(a, b) => {
                self.extended_test(a, via, spec);
                self.extended_test(b, via, spec);
            }
            E::Not(a) | E::Parenthesized(a) => self.extended_test(a, via, spec),
            E::UnaryTest(op, w) => {
                let fields = self.expand(w, via, spec);
                // `-v NAME` and `-R NAME` evaluate NAME's subscript as
                // arithmetic (`[[ -v 'a[$(cmd)]' ]]` runs `cmd`).
                if matches!(
                    op,
                    ast::UnaryPredicate::ShellVariableIsSetAndAssigned
                        | ast::UnaryPredicate::ShellVariableIsSetAndNameRef
                ) {
                    self.arithmetic_fields(&fields, via, spec);
                }
            }
            E::BinaryTest(op, a, b) => {
                let fa = self.expand(a, via, spec);
                let fb = self.expand(b, via, spec);
                // The arithmetic comparisons evaluate both operands as
                // expressions, after quote removal
                // (`[[ 1 -eq 'a[$(cmd)]' ]]` runs `cmd`).
                use ast::BinaryPredicate as B;
                if matches!(
                    op,
                    B::ArithmeticEqualTo
                        | B::ArithmeticNotEqualTo
                        | B::ArithmeticLessThan
                        | B::ArithmeticLessThanOrEqualTo
                        | B::ArithmeticGreaterThan
                        | B::ArithmeticGreaterThanOrEqualTo
                ) {
                    self.arithmetic_fields(&fa, via, spec);
                    self.arithmetic_fields(&fb, via, spec);
                }
            }
        }
    }

    /// Fields bash evaluates as arithmetic after expanding them: their
    /// text is an expression, whose `$(…)` in a subscript runs.
    /// `[[ ]]` splits no words, so the fields are one operand again.
    fn arithmetic_fields(&mut self, fields: &[Field], via: &[String], spec: bool) {
        let text = fields
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if text.contains(['$', '`', '[']) {
            let e = arithmetic_code(&text, &self.vars);
            self.inner(e, via, spec);
        }
    }

    fn compound(&mut self, c: &CompoundCommand, via: &[String], spec: bool) {
        match c {
            CompoundCommand::Arithmetic(a) => {
                let e = arithmetic_code(&a.expr.value, &self.vars);
                self.inner(e, via, spec);
            }
            CompoundCommand::ArithmeticForClause(f) => {
                for a in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    let e = arithmetic_code(&a.value, &self.vars);
                    self.inner(e, via, spec);
                }
                self.maybe_runs(|w| {
                    w.repeats(|w| {
                        w.compound_list(&f.body.list, via, spec);
                        if let Some(u) = &f.updater {
                            let e = arithmetic_code(&u.value, &w.vars);
                            w.inner(e, via, spec);
                        }
                    })
                })
            }
            CompoundCommand::BraceGroup(b) => self.compound_list(&b.list, via, spec),
            CompoundCommand::Subshell(s) => self.subshell_list(&s.list, via, spec),
            CompoundCommand::ForClause(f) => {
                let mut values = Vec::new();
                let mut globs = Vec::new();
                let mut all_literal = true;
                for w in f.values.iter().flatten() {
                    for field in self.expand(w, via, spec) {
                        all_literal &= field.literal;
                        if field.glob {
                            globs.push(field.text.clone());
                        }
                        values.push(field.text);
                    }
                }
                // Walk the body once per literal value so `for c in rm; do $c …`
                // is seen through; otherwise once with the variable unknown.
                // A glob value (`for f in src/*.rs`) stands for the paths it
                // matches: the body sees the glob, marked as such.
                let vars_before = self.vars.clone();
                let cwd_before = self.cwd.clone();
                // `for IFS in ,; do …` sets IFS for the body.
                if f.variable_name == "IFS" {
                    self.ifs_changed("IFS", None, spec);
                }
                if all_literal && !values.is_empty() && values.len() <= 16 {
                    for v in values {
                        self.vars.insert(f.variable_name.clone(), v);
                        let before = self.out.commands.len();
                        // A glob stands for any number of rounds.
                        if globs.is_empty() {
                            self.compound_list(&f.body.list, via, spec);
                        } else {
                            self.repeats(|w| w.compound_list(&f.body.list, via, spec));
                            self.mark_glob_values(before, &globs, via.len(), spec);
                        }
                    }
                } else {
                    self.set_var(f.variable_name.clone(), None);
                    self.repeats(|w| w.compound_list(&f.body.list, via, spec));
                }
                // The loop variable keeps its last value, and the body may
                // have stopped early (`break`): what the loop assigned is
                // unknown afterwards.
                self.set_var(f.variable_name.clone(), None);
                self.forget_changed(&vars_before);
                if self.cwd != cwd_before {
                    self.cwd = None;
                }
            }
            CompoundCommand::CaseClause(c) => {
                let _ = self.expand(&c.value, via, spec);
                for item in &c.cases {
                    // Patterns are expanded (their `$(…)` run) while
                    // matching, until one matches.
                    for p in &item.patterns {
                        let _ = self.expand(p, via, spec);
                    }
                    if let Some(list) = &item.cmd {
                        self.maybe_runs(|w| w.compound_list(list, via, spec));
                    }
                }
            }
            CompoundCommand::IfClause(i) => {
                self.maybe_runs(|w| {
                    w.compound_list(&i.condition, via, spec);
                    w.maybe_runs(|w| w.compound_list(&i.then, via, spec));
                    for e in i.elses.iter().flatten() {
                        w.maybe_runs(|w| {
                            if let Some(c) = &e.condition {
                                w.compound_list(c, via, spec);
                            }
                            w.compound_list(&e.body, via, spec);
                        });
                    }
                });
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                self.maybe_runs(|me| {
                    me.repeats(|me| {
                        me.compound_list(&w.0, via, spec);
                        me.compound_list(&w.1.list, via, spec);
                    })
                });
            }
            CompoundCommand::Coprocess(c) => {
                let saved = self.cwd.clone();
                let vars = self.vars.clone();
                self.command(&c.body, via, spec, &Stdin::Unknown);
                self.cwd = saved;
                self.vars = vars;
            }
        }
    }

    /// Expand a word and analyse its command substitutions.
    fn expand(&mut self, w: &ast::Word, via: &[String], spec: bool) -> Vec<Field> {
        let e = expand_word(&w.value, &self.vars);
        self.inner(e, via, spec)
    }

    /// Analyses the command substitutions and reports the opaque parts of
    /// an expansion; returns its fields.
    fn inner(&mut self, e: Expanded, via: &[String], spec: bool) -> Vec<Field> {
        for s in &e.substitutions {
            let mut v = via.to_vec();
            v.push("$(…)".to_string());
            // A substitution runs in a subshell: neither its `cd` nor its
            // assignments outlive it (`echo $(c=echo); $c -rf /`).
            let saved = self.cwd.clone();
            let vars = self.vars.clone();
            self.script(s, &v, spec);
            self.cwd = saved;
            self.vars = vars;
        }
        for o in e.opaque {
            self.issue(Issue::Opaque { construct: o });
        }
        for name in e.assigned {
            self.set_var(name, None);
        }
        for name in e.numeric {
            self.set_numeric(name);
        }
        e.fields
    }

    fn redirect(
        &mut self,
        r: &IoRedirect,
        out: &mut Vec<Redirect>,
        input: &mut Option<Stdin>,
        via: &[String],
        spec: bool,
    ) {
        match r {
            IoRedirect::File(_, kind, target) => match target {
                IoFileRedirectTarget::Filename(w) => {
                    let fields = self.expand(w, via, spec);
                    let mode = match kind {
                        IoFileRedirectKind::Read => FileMode::Read,
                        IoFileRedirectKind::DuplicateInput
                        | IoFileRedirectKind::DuplicateOutput => {
                            // `>&file` writes a file when the target is not a number.
                            if fields
                                .iter()
                                .all(|f| f.text.parse::<i32>().is_ok() || f.text == "-")
                            {
                                return;
                            }
                            FileMode::Write
                        }
                        // `<>` opens the file for reading as well: it is
                        // both a read and a write (`cat <> .env` prints it).
                        IoFileRedirectKind::ReadAndWrite => {
                            push_redirect(out, FileMode::Read, &fields);
                            FileMode::Write
                        }
                        _ => FileMode::Write,
                    };
                    push_redirect(out, mode, &fields);
                }
                IoFileRedirectTarget::Duplicate(w) => {
                    let fields = self.expand(w, via, spec);
                    if !fields
                        .iter()
                        .all(|f| f.text.parse::<i32>().is_ok() || f.text == "-")
                    {
                        push_redirect(out, FileMode::Write, &fields);
                    }
                }
                IoFileRedirectTarget::Fd(_) => {}
                IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    let mut v = via.to_vec();
                    v.push("<(…)".to_string());
                    let before = self.out.commands.len();
                    self.subshell_list(&sub.list, &v, spec);
                    if matches!(kind, IoFileRedirectKind::Read) {
                        // `cmd < <(…)`: standard input is that output.
                        *input = Some(Stdin::Unknown);
                        if self.out.commands.len() > before {
                            self.procsub_out = Some(self.out.commands.len() - 1);
                        }
                    }
                }
            },
            IoRedirect::HereDocument(_, doc) => {
                let text = if doc.requires_expansion {
                    let e = expand_heredoc(&doc.doc.value, &self.vars);
                    for s in &e.1 {
                        let mut v = via.to_vec();
                        v.push("$(…)".to_string());
                        self.script(s, &v, spec);
                    }
                    e.0
                } else {
                    doc.doc.value.clone()
                };
                *input = Some(Stdin::Known(text));
            }
            IoRedirect::HereString(_, w) => {
                let fields = self.expand(w, via, spec);
                let text: Vec<String> = fields.into_iter().map(|f| f.text).collect();
                *input = Some(Stdin::Known(text.join(" ") + "\n"));
            }
            IoRedirect::OutputAndError(w, _) => {
                let fields = self.expand(w, via, spec);
                push_redirect(out, FileMode::Write, &fields);
            }
        }
    }

    fn simple(&mut self, sc: &ast::SimpleCommand, via: &[String], spec: bool, stdin: &Stdin) {
        let mut words: Vec<Field> = Vec::new();
        let mut redirects = Vec::new();
        let mut input: Option<Stdin> = None;
        let outer_procsub = self.procsub_out.take();
        let mut assignments: Vec<(String, Option<String>)> = Vec::new();
        let items = sc
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .map(Some)
            .chain(std::iter::once(None))
            .chain(sc.suffix.iter().flat_map(|s| s.0.iter()).map(Some));
        for item in items {
            let Some(item) = item else {
                if let Some(w) = &sc.word_or_name {
                    words.extend(self.expand(w, via, spec));
                }
                continue;
            };
            match item {
                CommandPrefixOrSuffixItem::IoRedirect(r) => {
                    self.redirect(r, &mut redirects, &mut input, via, spec)
                }
                CommandPrefixOrSuffixItem::Word(w) => words.extend(self.expand(w, via, spec)),
                CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    if words.is_empty() {
                        let value = match &a.value {
                            ast::AssignmentValue::Scalar(v) => {
                                let fields = self.expand(v, via, spec);
                                let literal = fields.iter().all(|f| f.literal);
                                let text: Vec<String> =
                                    fields.into_iter().map(|f| f.text).collect();
                                literal.then(|| text.join(" "))
                            }
                            ast::AssignmentValue::Array(items) => {
                                // `a=($(cmd) [$(cmd)]=x)`: every element and
                                // subscript is expanded.
                                for (key, value) in items {
                                    if let Some(k) = key {
                                        let e = arithmetic_code(&k.value, &self.vars);
                                        self.inner(e, via, spec);
                                    }
                                    let _ = self.expand(value, via, spec);
                                }
                                None
                            }
                        };
                        let (name, element) = match &a.name {
                            ast::AssignmentName::VariableName(n) => (n.clone(), false),
                            ast::AssignmentName::ArrayElementName(n, index) => {
                                let e = arithmetic_code(index, &self.vars);
                                self.inner(e, via, spec);
                                (n.clone(), true)
                            }
                        };
                        // `c[1]=echo` leaves `$c` (element 0) as it was, or
                        // not (`c[0]`, `c[i]`): unknown either way.
                        let value = if a.append || element { None } else { value };
                        assignments.push((name, value));
                    } else {
                        // After the command name an assignment word is an argument
                        // (`export X=1`, `declare X=1`).
                        words.extend(self.expand(w, via, spec));
                    }
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                    let mut v = via.to_vec();
                    v.push("<(…)".to_string());
                    let before = self.out.commands.len();
                    self.subshell_list(&sub.list, &v, spec);
                    if self.out.commands.len() > before {
                        self.procsub_out = Some(self.out.commands.len() - 1);
                    }
                    words.push(Field {
                        text: "/dev/fd/63".into(),
                        literal: true,
                        ..Field::default()
                    });
                }
            }
        }
        for (name, value) in &assignments {
            self.assigned(name, value.as_deref(), via, spec);
        }
        // A prefix assignment lasts one command, but for `eval`, `source`
        // and `.` that command is code run in this shell
        // (`IFS=, eval 'cat $f'`).
        if words
            .first()
            .is_some_and(|w| w.literal && matches!(w.text.as_str(), "eval" | "source" | "."))
        {
            for (name, value) in &assignments {
                self.ifs_changed(name, value.as_deref(), spec);
            }
        }
        if words.is_empty() {
            self.procsub_out = outer_procsub;
            for (name, value) in &assignments {
                self.ifs_changed(name, value.as_deref(), spec);
            }
            // Only assignments and redirections: the assignments persist.
            for (name, value) in assignments {
                self.set_var(name, value);
            }
            if !redirects.is_empty() {
                self.push(SimpleCommand {
                    redirects,
                    via: via.to_vec(),
                    speculative: spec,
                    ..SimpleCommand::default()
                });
            }
            return;
        }
        // `printf -v NAME FMT ARGS` sets NAME to the formatted text, escapes
        // of the format interpreted (`'a[\x24(cmd)]'` is `a[$(cmd)]`).
        if let Some(first) = words.first()
            && first.literal
            && first.text == "printf"
            && let Some((name, value)) = printf_v(words.get(1..).unwrap_or(&[]))
        {
            self.assigned(&name, value.as_deref(), via, spec);
            self.ifs_changed(&name, value.as_deref(), spec);
            if value.is_none() && !spec {
                self.issue(Issue::Opaque {
                    construct: format!(
                        "`printf -v {name}` with a value not known here, which may hold code"
                    ),
                });
            }
            self.set_var(name, value);
        }
        // `export X=val` / `declare X=val` / `readonly X=val` also set variables.
        if let Some(first) = words.first()
            && first.literal
            && matches!(
                first.text.as_str(),
                "export" | "declare" | "typeset" | "readonly" | "local"
            )
        {
            for f in words.iter().skip(1) {
                if let Some((n, v)) = f.text.split_once('=')
                    && is_name(n)
                {
                    let (n, v) = (n.to_string(), v.to_string());
                    self.assigned(&n, f.literal.then_some(v.as_str()), via, spec);
                    self.ifs_changed(&n, f.literal.then_some(v.as_str()), spec);
                    self.set_var(n, f.literal.then_some(v));
                }
            }
        }
        self.evaluated_arguments(&words, via, spec);
        let stdin = input.unwrap_or_else(|| stdin.clone());
        let procsub = std::mem::replace(&mut self.procsub_out, outer_procsub);
        let shell = words
            .first()
            .map(|f| basename(&f.text).to_string())
            .filter(|n| SHELLS.contains(&n.as_str()) || n == "source" || n == ".");
        let called = words.first().filter(|f| f.literal).and_then(|f| {
            self.bodies
                .get(&f.text)
                .cloned()
                .map(|b| (f.text.clone(), b))
        });
        self.dispatch(words, redirects, via.to_vec(), spec, &stdin, 0);
        // `bash <(curl …)`, `bash < <(curl …)` and `source <(curl …)` are
        // `curl … | bash`: recorded as a pipeline so pipeline rules apply.
        if let (Some(src), Some(shell)) = (procsub, shell) {
            let last = self.out.commands.len().checked_sub(1);
            if let Some(idx) = last.filter(|i| {
                *i > src && self.out.commands.get(*i).is_some_and(|c| c.name() == shell)
            }) {
                self.push_pipeline(vec![vec![src], vec![idx]]);
            }
        }
        // A call of a function defined earlier runs its body here, with
        // this moment's variables and directory (`ls(){ cat credentials;
        // }; cd ~/.aws && ls`); what it assigns or where it goes is
        // unknown afterwards (it may return early).
        if let Some((fname, body)) = called {
            if self.calls < 8 && self.call_walks < 64 {
                self.calls += 1;
                self.call_walks += 1;
                let mut v = via.to_vec();
                v.push(format!("function {fname}"));
                self.maybe_runs(|w| w.compound(&body, &v, spec));
                self.calls -= 1;
            } else if !spec {
                self.issue(Issue::RecursionLimit { limit: 8 });
            }
        }
    }

    fn push(&mut self, mut cmd: SimpleCommand) {
        if self.out.commands.len() >= self.limits.max_commands {
            self.issue(Issue::TooManyCommands {
                limit: self.limits.max_commands,
            });
            return;
        }
        match &self.cwd {
            Some(d) => cmd.cwd = d.clone(),
            None => cmd.cwd_unknown = true,
        }
        cmd.lookup_changed = self.lookup_changed;
        // `hash -p PATH NAME` and aliases (with `expand_aliases`) make a
        // name run something else from here on.
        if !cmd.speculative
            && (cmd.name() == "alias" && cmd.argv.iter().skip(1).any(|a| a.contains('='))
                || cmd.name() == "hash" && cmd.argv.iter().skip(1).any(|a| a.starts_with("-p")))
        {
            self.lookup_changed = true;
        }
        // `env cd`, `sudo cd`, `nohup cd` run an external program that
        // cannot change this shell's directory.
        let wrapped = cmd.via.last().is_some_and(|v| {
            !v.ends_with(" -c")
                && !v.contains('<')
                && !matches!(v.as_str(), "eval" | "$(…)" | "builtin" | "command")
                && !DIR_WRAPPERS.contains(&v.as_str())
        });
        let changes_dir =
            !cmd.speculative && !wrapped && matches!(cmd.name(), "cd" | "pushd" | "popd");
        let next = changes_dir.then(|| self.next_cwd(&cmd));
        self.glob_options(&cmd.argv, cmd.speculative);
        self.out.commands.push(cmd);
        if let Some(next) = next {
            self.cwd = next;
        }
    }

    /// The working directory after `cd`/`pushd`/`popd` `cmd`.
    fn next_cwd(&self, cmd: &SimpleCommand) -> Option<String> {
        if cmd.name() == "popd" || cmd.dynamic_args || cmd.glob_args {
            return None;
        }
        let mut operands = cmd
            .argv
            .iter()
            .skip(1)
            .skip_while(|a| a.starts_with('-') && a.len() > 1 && *a != "--")
            .skip_while(|a| *a == "--");
        let dir = match (operands.next(), cmd.name()) {
            (None, "cd") => return Some("~".into()),
            (None, _) => return None,
            (Some(d), _) => d,
        };
        if dir == "-" || (cmd.name() == "pushd" && (dir.starts_with('+') || dir.starts_with('-'))) {
            return None;
        }
        if dir.starts_with('/') || dir.starts_with('~') {
            return Some(dir.clone());
        }
        // With `CDPATH` set, `cd NAME` searches its entries first; only
        // `.`/`..`-relative names are left alone.
        let dotted = dir == "." || dir == ".." || dir.starts_with("./") || dir.starts_with("../");
        if self.cdpath && !dotted {
            return None;
        }
        let cur = self.cwd.as_ref()?;
        if cur.is_empty() {
            Some(dir.clone())
        } else {
            Some(format!("{}/{dir}", cur.trim_end_matches('/')))
        }
    }

    /// Strip wrappers, follow interpreters, and record the final command.
    fn dispatch(
        &mut self,
        argv: Vec<Field>,
        redirects: Vec<Redirect>,
        via: Vec<String>,
        spec: bool,
        stdin: &Stdin,
        extra_dynamic: usize,
    ) {
        let mut deferred = Vec::new();
        self.dispatch_into(
            argv,
            redirects,
            via,
            spec,
            stdin,
            extra_dynamic,
            &mut deferred,
        );
        // They passed the command limit when first pushed.
        self.out.commands.extend(deferred);
    }

    #[allow(clippy::too_many_arguments)]
    fn dispatch_into(
        &mut self,
        mut argv: Vec<Field>,
        redirects: Vec<Redirect>,
        mut via: Vec<String>,
        spec: bool,
        stdin: &Stdin,
        mut extra_dynamic: usize,
        deferred: &mut Vec<SimpleCommand>,
    ) {
        for _ in 0..32 {
            let Some(first) = argv.first() else {
                if !redirects.is_empty() {
                    self.push(SimpleCommand {
                        redirects,
                        via,
                        speculative: spec,
                        ..SimpleCommand::default()
                    });
                }
                return;
            };
            if !first.literal || first.glob || first.text.is_empty() {
                if !spec {
                    self.issue(Issue::NonLiteralCommand {
                        word: first.text.clone(),
                    });
                }
                self.record(argv, redirects, via, spec, extra_dynamic);
                return;
            }
            let name = basename(&first.text).to_string();
            let before = self.out.commands.len();
            match self.unwrap(&name, &argv, &via, spec, stdin) {
                Unwrap::Inner {
                    rest,
                    label,
                    dynamic,
                } => {
                    // Unless it recorded its own effects (`xargs -a FILE`) or
                    // runs nothing (`env` alone is recorded as itself).
                    let own = self
                        .out
                        .commands
                        .get(before..)
                        .unwrap_or(&[])
                        .iter()
                        .any(|c| c.name() == name);
                    if !own && !rest.is_empty() {
                        self.record_wrapper(&argv, &via, spec);
                    }
                    // What a wrapper itself does (`xargs -a FILE` reads
                    // FILE) is recorded after the command it runs, so a
                    // pipeline stage is the wrapped command
                    // (`xargs -a f curl … | sh` is `curl … | sh`).
                    let side: Vec<SimpleCommand> = self
                        .out
                        .commands
                        .drain(before.min(self.out.commands.len())..)
                        .collect();
                    deferred.extend(side);
                    via.push(label);
                    extra_dynamic += usize::from(dynamic);
                    if rest.is_empty() {
                        // `sudo` alone, `env` alone: the wrapper is the command.
                        self.record(argv, redirects, via, spec, extra_dynamic);
                        return;
                    }
                    argv = rest;
                }
                Unwrap::Also { extra } => {
                    for (inner, label) in extra {
                        let mut v = via.clone();
                        v.push(label);
                        self.dispatch(inner, Vec::new(), v, spec, &Stdin::Unknown, 1);
                    }
                    self.record(argv, redirects, via, spec, extra_dynamic);
                    return;
                }
                Unwrap::Done => {
                    self.record(argv, redirects, via, spec, extra_dynamic);
                    return;
                }
                Unwrap::Replaced => {
                    self.record_wrapper(&argv, &via, spec);
                    if !redirects.is_empty() {
                        self.push(SimpleCommand {
                            redirects,
                            via,
                            speculative: spec,
                            ..SimpleCommand::default()
                        });
                    }
                    return;
                }
            }
        }
        self.issue(Issue::RecursionLimit { limit: 32 });
        self.record(argv, redirects, via, spec, extra_dynamic);
    }

    fn record(
        &mut self,
        argv: Vec<Field>,
        redirects: Vec<Redirect>,
        via: Vec<String>,
        spec: bool,
        extra_dynamic: usize,
    ) {
        let mut cmd = simple_command(argv, via, spec);
        cmd.redirects = redirects;
        cmd.dynamic_args |= extra_dynamic > 0;
        self.push(cmd);
    }

    /// The wrapper or shell `argv` itself, with the command it runs among
    /// its words ([`SimpleCommand::wrapper`]).
    fn record_wrapper(&mut self, argv: &[Field], via: &[String], spec: bool) {
        let mut cmd = simple_command(argv.to_vec(), via.to_vec(), spec);
        cmd.wrapper = true;
        self.push(cmd);
    }

    fn unwrap(
        &mut self,
        name: &str,
        argv: &[Field],
        via: &[String],
        spec: bool,
        stdin: &Stdin,
    ) -> Unwrap {
        let args = argv.get(1..).unwrap_or(&[]);
        let inner = |rest: &[Field], label: &str| Unwrap::Inner {
            rest: rest.to_vec(),
            label: label.to_string(),
            dynamic: false,
        };
        match name {
            "sudo" => self.unwrap_sudo(args, via, spec),
            "doas" => inner(skip_opts(args, &["-u", "-C"]), "doas"),
            "nohup" | "builtin" | "setsid" | "unbuffer" | "chronic" | "caffeinate" | "torsocks"
            | "proxychains" | "proxychains4" => inner(skip_opts(args, &[]), name),
            "exec" => inner(skip_opts(args, &["-a"]), "exec"),
            "command" => {
                // `command -v X` / `-V` only looks X up.
                if args
                    .iter()
                    .take_while(|f| f.text.starts_with('-'))
                    .any(|f| f.text.contains('v') || f.text.contains('V'))
                {
                    return Unwrap::Done;
                }
                inner(skip_opts(args, &[]), "command")
            }
            "nice" => inner(skip_opts(args, &["-n", "--adjustment"]), "nice"),
            "ionice" => inner(
                skip_opts(args, &["-c", "-n", "-t", "--class", "--classdata"]),
                "ionice",
            ),
            "chrt" | "taskset" => {
                let rest = skip_opts(args, &["-p"]);
                inner(rest.get(1..).unwrap_or(&[]), name)
            }
            "stdbuf" => inner(skip_opts(args, &["-i", "-o", "-e"]), "stdbuf"),
            "time" => self.unwrap_table(args, TIME_OPTIONS, name, via, spec),
            "strace" | "ltrace" => {
                let defs = if name == "strace" {
                    STRACE_OPTIONS
                } else {
                    LTRACE_OPTIONS
                };
                self.unwrap_table(args, defs, name, via, spec)
            }
            "valgrind" => self.unwrap_valgrind(args, via, spec),
            "script" => self.unwrap_script(args, via, spec),
            "unshare" | "nsenter" => self.unwrap_namespace(name, argv, via, spec),
            "timeout" => {
                let rest = skip_opts(args, &["-s", "-k", "--signal", "--kill-after"]);
                inner(rest.get(1..).unwrap_or(&[]), "timeout")
            }
            "chroot" => {
                let rest = skip_opts(args, &["--userspec", "--groups"]);
                inner(rest.get(1..).unwrap_or(&[]), "chroot")
            }
            "env" => self.unwrap_env(args, via, spec),
            "flock" => {
                let rest = skip_opts(args, &["-w", "--timeout", "-E", "--conflict-exit-code"]);
                // flock FILE -c CMD  |  flock FILE CMD…: `-c` is flock's only
                // right after FILE (`flock FILE od -c x` runs `od -c x`).
                let after_file = rest.get(1..).unwrap_or(&[]);
                let command_opt = after_file.get(..after_file.len().min(2)).filter(|w| {
                    w.first()
                        .is_some_and(|f| f.text == "-c" || f.text.starts_with("--command"))
                });
                if let Some(script) = command_opt.and_then(|w| flag_value(w, &["-c", "--command"]))
                {
                    self.nested(&script, via, "flock -c", spec);
                    return Unwrap::Replaced;
                }
                inner(after_file, "flock")
            }
            "watch" => {
                let rest = skip_opts(
                    args,
                    &[
                        "-n",
                        "--interval",
                        "-d",
                        "--differences",
                        "-q",
                        "--equexit",
                        "-s",
                        "--shotsdir",
                    ],
                );
                let exec_form = args.iter().any(|f| f.text == "-x" || f.text == "--exec");
                if exec_form {
                    inner(rest, "watch -x")
                } else {
                    let text: Vec<&str> = rest.iter().map(|f| f.text.as_str()).collect();
                    self.nested(&text.join(" "), via, "watch", spec);
                    Unwrap::Replaced
                }
            }
            "su" => {
                if let Some(script) = flag_value(args, &["-c", "--command", "--session-command"]) {
                    self.nested(&script, via, "su -c", spec);
                    return Unwrap::Replaced;
                }
                Unwrap::Done
            }
            "runuser" => {
                if let Some(script) = flag_value(args, &["-c", "--command"]) {
                    self.nested(&script, via, "runuser -c", spec);
                    return Unwrap::Replaced;
                }
                match args.iter().position(|f| f.text == "--") {
                    Some(i) => inner(args.get(i + 1..).unwrap_or(&[]), "runuser"),
                    None => Unwrap::Done,
                }
            }
            "xargs" => {
                self.arg_file(name, args, &["-a", "--arg-file"], via, spec);
                let rest = skip_opts(
                    args,
                    &[
                        "-I",
                        "-L",
                        "-n",
                        "-P",
                        "-s",
                        "-d",
                        "-E",
                        "-a",
                        "--arg-file",
                        "--delimiter",
                        "--max-args",
                        "--max-procs",
                        "--max-lines",
                        "--replace",
                        "--eof",
                        "--max-chars",
                        "--process-slot-var",
                    ],
                );
                let mut rest = if rest.is_empty() {
                    vec![Field {
                        text: "echo".into(),
                        literal: true,
                        ..Field::default()
                    }]
                } else {
                    rest.to_vec()
                };
                // `echo a b | xargs cmd` runs `cmd a b`: when the input is
                // known and xargs uses its default splitting, the
                // arguments are known too.
                let opts = args.len() - rest.len().min(args.len());
                let plain_opts = args.iter().take(opts).all(|f| {
                    matches!(
                        f.text.as_str(),
                        "-r" | "--no-run-if-empty" | "-t" | "--verbose" | "-x" | "--exit"
                    )
                });
                if let Stdin::Known(text) = stdin
                    && plain_opts
                    && !text.contains(['\'', '"', '\\'])
                {
                    rest.extend(text.split_whitespace().map(|w| Field {
                        text: w.to_string(),
                        literal: true,
                        ..Field::default()
                    }));
                    return Unwrap::Inner {
                        rest,
                        label: "xargs".into(),
                        dynamic: false,
                    };
                }
                Unwrap::Inner {
                    rest,
                    label: "xargs".into(),
                    dynamic: true,
                }
            }
            "parallel" => {
                self.arg_file(name, args, &["-a", "--arg-file", "::::"], via, spec);
                let rest = skip_opts(
                    args,
                    &[
                        "-j",
                        "--jobs",
                        "-S",
                        "--sshlogin",
                        "--delay",
                        "--timeout",
                        "--joblog",
                        "-a",
                        "--arg-file",
                        "--colsep",
                        "-I",
                        "--results",
                    ],
                );
                let end = rest
                    .iter()
                    .position(|f| f.text.starts_with(":::"))
                    .unwrap_or(rest.len());
                let cmd = rest.get(..end).unwrap_or(&[]);
                let text: Vec<&str> = cmd.iter().map(|f| f.text.as_str()).collect();
                let text = text.join(" ");
                // GNU parallel runs, for every input after `:::`, the command
                // with that input appended (or in place of `{}`) through a
                // shell; with no command, each input is a command line.
                let inputs: Vec<&Field> = rest
                    .get(end + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|f| !f.text.starts_with(":::"))
                    .collect();
                if inputs.is_empty() {
                    self.nested(&text, via, "parallel", spec);
                }
                for input in inputs {
                    let script = if text.trim().is_empty() {
                        input.text.clone()
                    } else {
                        let q = sh_quote(&input.text);
                        if text.contains("{}") {
                            text.replace("{}", &q)
                        } else {
                            format!("{text} {q}")
                        }
                    };
                    self.nested(&script, via, "parallel", spec);
                }
                Unwrap::Replaced
            }
            "find" | "fd" | "fdfind" => {
                let mut extra = Vec::new();
                let mut i = 0;
                while let Some(f) = args.get(i) {
                    let flag = f.text.as_str();
                    if matches!(
                        flag,
                        "-exec"
                            | "-execdir"
                            | "-ok"
                            | "-okdir"
                            | "-x"
                            | "--exec"
                            | "-X"
                            | "--exec-batch"
                    ) {
                        let start = i + 1;
                        let mut end = start;
                        while let Some(g) = args.get(end) {
                            if g.text == ";"
                                || g.text == "+"
                                || (name != "find" && g.text.starts_with('-') && end > start)
                            {
                                break;
                            }
                            end += 1;
                        }
                        let words = args.get(start..end).unwrap_or(&[]);
                        let mut cmd: Vec<Field> = Vec::with_capacity(words.len());
                        for (k, g) in words.iter().enumerate() {
                            if k == 0 && g.text.contains('{') && g.text.contains('}') {
                                // The found file is the program (`-exec {} ;`,
                                // `fd -x ./{}`): not known here.
                                cmd.push(Field {
                                    literal: false,
                                    ..g.clone()
                                });
                            } else if g.text != "{}" {
                                cmd.push(g.clone());
                            }
                        }
                        if !cmd.is_empty() {
                            extra.push((cmd, format!("{name} {flag}")));
                        }
                        i = end + 1;
                    } else {
                        i += 1;
                    }
                }
                if extra.is_empty() {
                    Unwrap::Done
                } else {
                    Unwrap::Also { extra }
                }
            }
            "source" | "." => {
                if args.first().is_some_and(|f| is_stream_path(&f.text)) && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("{name} <(…)"),
                    });
                }
                Unwrap::Done
            }
            "sed" | "gsed" | "awk" | "gawk" | "mawk" | "nawk" => {
                self.text_program(name, args, via, spec);
                Unwrap::Done
            }
            "git" => self.unwrap_git(argv, via, spec),
            // `split --filter=CMD` runs CMD through the shell for every
            // piece; `sort --compress-program=PROG` runs PROG on its
            // temporary files. Both accept GNU abbreviations (`--fil`,
            // `--compress`).
            "split" | "sort" => {
                let (full, min, run) = if name == "split" {
                    ("--filter", 3, Run::Line)
                } else {
                    ("--compress-program", 4, Run::Program)
                };
                let normalised: Vec<Field> = args
                    .iter()
                    .map(|f| {
                        let (opt, value) = match f.text.split_once('=') {
                            Some((o, v)) => (o, Some(v)),
                            None => (f.text.as_str(), None),
                        };
                        if opt.len() >= min && opt.starts_with("--") && full.starts_with(opt) {
                            Field {
                                text: value.map_or(full.to_string(), |v| format!("{full}={v}")),
                                ..f.clone()
                            }
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                self.option_commands(name, &normalised, &[(full, run)], via, spec);
                Unwrap::Done
            }
            // `gcc -wrapper PROG,ARG…` runs every compiler tool through PROG.
            "gcc" | "g++" | "cc" | "c++" | "clang" | "clang++" => {
                self.option_commands(name, args, &[("-wrapper", Run::Commas)], via, spec);
                Unwrap::Done
            }
            // `make --eval=TEXT` (`-E TEXT`) reads TEXT as makefile text:
            // its recipes run.
            "make" | "gmake" => {
                self.make_eval(name, args, via, spec);
                Unwrap::Done
            }
            "cmake" if args.first().is_some_and(|f| f.text == "-E") => {
                self.cmake_command(args.get(1..).unwrap_or(&[]), via, spec)
            }
            // Options that make npm run code or read settings from
            // elsewhere (`--node-options=--import=…` reaches every node
            // process a script starts), and cargo's `--config`, which can
            // name a runner, a linker or a rustc wrapper.
            "npm" | "pnpm" | "yarn" | "cargo" => {
                let found = if name == "cargo" {
                    cargo_risky_option(args)
                } else {
                    // npm takes unambiguous prefixes (`--node-opt`).
                    args.iter().take_while(|f| f.text != "--").find_map(|f| {
                        let lower = f.text.to_ascii_lowercase();
                        let opt = lower.split('=').next().unwrap_or("");
                        let key = opt.strip_prefix("--")?;
                        (key.len() >= 4
                            && NPM_RISKY.iter().any(|r| {
                                let r = r.replace('_', "-");
                                r == key || (key.len() >= 6 && r.starts_with(key))
                            }))
                        .then(|| opt.to_string())
                    })
                };
                if let Some(opt) = found
                    && !spec
                {
                    self.issue(Issue::Opaque {
                        construct: format!("`{name} {opt}`, which can make it run other code"),
                    });
                }
                Unwrap::Done
            }
            // Test code from outside the repository runs too: a test file or
            // directory there, `-c`/`--rootdir` naming a configuration
            // there, `-o pythonpath=…` (written there earlier, where writes
            // are allowed).
            "pytest" | "py.test" => {
                let mut i = 0;
                let mut found = false;
                while let Some(f) = args.get(i) {
                    i += 1;
                    let t = f.text.as_str();
                    const CODE: &[&str] = &[
                        "-c",
                        "--rootdir",
                        "--confcutdir",
                        "-o",
                        "--override-ini",
                        "--config-file",
                    ];
                    // Another option's value is no code (`--basetemp DIR`,
                    // `-k EXPR`): skipped when it is the next word.
                    const VALUE: &[&str] = &[
                        "-k",
                        "-m",
                        "-p",
                        "-W",
                        "--basetemp",
                        "--junitxml",
                        "--maxfail",
                        "--tb",
                        "--durations",
                        "--log-file",
                        "--deselect",
                        "--ignore",
                        "--ignore-glob",
                    ];
                    let value = if CODE.contains(&t) {
                        i += 1;
                        args.get(i - 1).map(|v| (v.literal, v.text.clone()))
                    } else if let Some((_, v)) = t.split_once('=').filter(|(o, _)| CODE.contains(o))
                    {
                        Some((f.literal, v.to_string()))
                    } else if t.starts_with('-') {
                        if VALUE.contains(&t) {
                            i += 1;
                        }
                        None
                    } else {
                        Some((f.literal, t.to_string()))
                    };
                    if let Some((literal, v)) = value {
                        let v = v
                            .split_once("pythonpath=")
                            .map_or(v.as_str(), |(_, p)| p)
                            .to_string();
                        if !literal || v.split(':').any(outside_repo) {
                            found = true;
                        }
                    }
                }
                if found && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("{name} with code outside the repository"),
                    });
                }
                Unwrap::Done
            }
            // `rg --pre PROG` runs PROG on every file searched.
            "rg" => {
                self.option_commands(name, args, &[("--pre", Run::Program)], via, spec);
                Unwrap::Done
            }
            // `go test -exec 'CMD'` runs the test binary through CMD;
            // `-toolexec 'CMD'` runs every compiler tool through it.
            "go" => {
                let opts = [
                    ("-exec", Run::Line),
                    ("--exec", Run::Line),
                    ("-toolexec", Run::Line),
                    ("--toolexec", Run::Line),
                    // `go vet -vettool=PROG` runs PROG as the analyser.
                    ("-vettool", Run::Program),
                    ("--vettool", Run::Program),
                ];
                self.option_commands(name, args, &opts, via, spec);
                // `-ldflags='-extld=PROG'` runs PROG as the linker;
                // `-overlay=FILE` replaces source files with others.
                let risky = args.iter().take_while(|f| f.text != "--").any(|f| {
                    let t = f.text.trim_start_matches('-');
                    t.starts_with("overlay")
                        || (t.starts_with("ldflags") || t.starts_with("gcflags"))
                            && (f.text.contains("extld")
                                || f.text.contains("-linkmode")
                                || !f.literal)
                });
                // `go -C DIR` and `-modfile=F` outside the repository run
                // code from there.
                let outside = |f: &Field| !f.literal || outside_repo(&f.text);
                let elsewhere = args.windows(2).any(|w| {
                    matches!(
                        w.first().map(|f| f.text.as_str()),
                        Some("-C") | Some("-modfile") | Some("--modfile")
                    ) && w.get(1).is_some_and(outside)
                }) || args.iter().any(|f| {
                    ["-C=", "-modfile=", "--modfile="]
                        .iter()
                        .any(|p| f.text.strip_prefix(p).is_some_and(outside_repo))
                });
                if elsewhere && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: "go with code outside the repository".into(),
                    });
                }
                let ldflags_next = args.windows(2).any(|w| {
                    matches!(
                        w.first().map(|f| f.text.trim_start_matches('-')),
                        Some("ldflags") | Some("gcflags")
                    ) && w.get(1).is_some_and(|v| {
                        !v.literal || v.text.contains("extld") || v.text.contains("linkmode")
                    })
                });
                if (risky || ldflags_next) && !spec {
                    self.issue(Issue::Opaque {
                        construct: "`go -ldflags`/`-overlay` naming another linker or source"
                            .into(),
                    });
                }
                Unwrap::Done
            }
            "tar" => {
                // Options of tar that run a program: `--to-command`,
                // `--checkpoint-action=exec=`, `-I`/`--use-compress-program`,
                // `-F`/`--info-script`, `--new-volume-script`, `--rsh-command`.
                let mut i = 0;
                while let Some(f) = args.get(i) {
                    let t = f.text.as_str();
                    if t == "--" {
                        break;
                    }
                    let runs = [
                        "--to-command",
                        "--use-compress-program",
                        "--info-script",
                        "--new-volume-script",
                        "--rsh-command",
                        "--checkpoint-action",
                        "-I",
                        "-F",
                    ];
                    // Old-style first word (`tar cIf PROG x.tar`) is a
                    // cluster of short options too.
                    let word = if i == 0 && !t.starts_with('-') {
                        format!("-{t}")
                    } else {
                        t.to_string()
                    };
                    for opt in runs {
                        let value = match option_spelling(&word, opt) {
                            Some(Spelt::Next) => {
                                i += 1;
                                args.get(i).map(|v| v.text.clone())
                            }
                            Some(Spelt::Joined(v)) => Some(v.to_string()),
                            None => None,
                        };
                        let program = if opt == "--checkpoint-action" {
                            value.and_then(|v| v.strip_prefix("exec=").map(str::to_string))
                        } else {
                            value
                        };
                        if let Some(p) = program {
                            self.nested(&p, via, &format!("tar {opt}"), spec);
                            break;
                        }
                    }
                    i += 1;
                }
                Unwrap::Done
            }
            "eval" => {
                let text: Vec<&str> = args.iter().map(|f| f.text.as_str()).collect();
                if args.iter().any(|f| !f.literal) {
                    self.issue(Issue::UnknownScript {
                        shell: "eval".into(),
                    });
                }
                // `eval` runs in the current shell: its `cd` and its
                // assignments stay (`eval cd .claude && echo x > settings.json`).
                let mut v = via.to_vec();
                v.push("eval".to_string());
                self.script(&text.join(" "), &v, spec);
                Unwrap::Replaced
            }
            _ if SHELLS.contains(&name) => self.unwrap_shell(name, args, via, spec, stdin),
            "python" | "python2" | "python3" | "node" | "nodejs" | "deno" | "bun" | "perl"
            | "ruby" | "php" | "lua" | "Rscript" | "osascript" => {
                let flags: &[&str] = match name {
                    "perl" => &["-e", "-E"],
                    "ruby" | "node" | "nodejs" | "lua" | "Rscript" | "osascript" => {
                        &["-e", "--eval", "-p", "--print"]
                    }
                    "php" => &["-r"],
                    "deno" | "bun" => &["eval", "-e", "--eval"],
                    _ => &["-c"],
                };
                if let Some(code) = flag_value(args, flags) {
                    self.inline_code(&code, via, name);
                }
                Unwrap::Done
            }
            _ => Unwrap::Done,
        }
    }

    /// A file a wrapper's own option reads or writes (`time -o FILE`),
    /// recorded as a command that is only that redirection.
    fn own_access(&mut self, mode: FileMode, file: &Field, via: &[String], spec: bool) {
        let mut redirects = Vec::new();
        push_redirect(&mut redirects, mode, std::slice::from_ref(file));
        self.push(SimpleCommand {
            redirects,
            via: via.to_vec(),
            speculative: spec,
            ..SimpleCommand::default()
        });
    }

    /// A shell command line given as one option value (`script -c CMD`,
    /// `strace -o '|CMD'`): analysed as a nested script; a value that is
    /// not a plain literal is reported as an unknown script.
    fn option_script(
        &mut self,
        text: &str,
        literal: bool,
        via: &[String],
        label: &str,
        spec: bool,
    ) {
        if !literal && !spec {
            self.issue(Issue::UnknownScript {
                shell: label.to_string(),
            });
        }
        self.nested(text, via, label, spec);
    }

    /// An option missing from a wrapper's table ([`UNKNOWN_OPTION`]): the
    /// program may take the next word as its value, so which word is the
    /// command is a guess, and the line needs review.
    fn unknown_option(&mut self, program: &str, word: Option<&Field>, spec: bool) {
        if !spec {
            self.issue(Issue::Opaque {
                construct: format!(
                    "{program} option {}",
                    word.map(|w| w.text.as_str()).unwrap_or_default()
                ),
            });
        }
    }

    /// A tracing or timing wrapper read with its option table
    /// ([`wrapper_options`]): `time`, `strace`, `ltrace`. Its `-o FILE`
    /// (`--output`, time's `--output-file`) writes FILE; strace's
    /// `-o '|CMD'` (or `'!CMD'`) pipes the trace into the shell command
    /// CMD, and its `-E VAR=VAL` sets the command's environment as `env`
    /// does. The command after the options runs. Attaching to another
    /// process as well (`-p PID`), which reads that process's memory and
    /// system calls, makes the whole line a command of its own too.
    fn unwrap_table(
        &mut self,
        args: &[Field],
        defs: &'static [OptDef],
        label: &str,
        via: &[String],
        spec: bool,
    ) -> Unwrap {
        let (opts, end) = wrapper_options(args, defs);
        let rest = args.get(end..).unwrap_or(&[]).to_vec();
        let mut attaches = false;
        for (def, value) in opts {
            if is_unknown(def) {
                self.unknown_option(label, value.as_ref(), spec);
                continue;
            }
            attaches |= def.short == Some('p') && label != "time";
            if def.short == Some('E') && label == "strace" {
                if let Some(v) = &value {
                    self.env_word(v, via, spec);
                }
                continue;
            }
            let Some(file) = value.filter(|_| def.short == Some('o')) else {
                continue;
            };
            match file
                .text
                .strip_prefix(['|', '!'])
                .filter(|_| label == "strace")
            {
                Some(line) => self.option_script(line, file.literal, via, "strace -o |", spec),
                None => self.own_access(FileMode::Write, &file, via, spec),
            }
        }
        if attaches && !rest.is_empty() {
            return Unwrap::Also {
                extra: vec![(rest, label.to_string())],
            };
        }
        Unwrap::Inner {
            rest,
            label: label.to_string(),
            dynamic: false,
        }
    }

    /// `valgrind [--OPTION=VALUE]... PROGRAM [ARG]...`: every option is one
    /// word. Its output files (`--log-file`, `--xml-file`,
    /// `--massif-out-file`, …) are written, `--suppressions` files read;
    /// `%q{VAR}` in a file name is an environment variable.
    fn unwrap_valgrind(&mut self, args: &[Field], via: &[String], spec: bool) -> Unwrap {
        let mut at = 0;
        while let Some(f) = args.get(at) {
            if !f.text.starts_with('-') {
                break;
            }
            at += 1;
            let Some((name, value)) = f.text.strip_prefix("--").and_then(|l| l.split_once('='))
            else {
                continue;
            };
            let mode = if name == "suppressions" {
                FileMode::Read
            } else if name.ends_with("-file") {
                FileMode::Write
            } else {
                continue;
            };
            let file = Field {
                text: value.to_string(),
                literal: f.literal && !value.contains("%q"),
                ..f.clone()
            };
            self.own_access(mode, &file, via, spec);
        }
        Unwrap::Inner {
            rest: args.get(at..).unwrap_or(&[]).to_vec(),
            label: "valgrind".into(),
            dynamic: false,
        }
    }

    /// `script [OPTION]... [FILE]` (util-linux): records a terminal
    /// session into FILE (`typescript` when neither FILE nor an `-O`/`-B`
    /// log is named) and the `-I`/`-O`/`-B`/`-T` logs; `-c CMD` runs the
    /// shell command CMD. util-linux reads options after FILE too
    /// (`script out.log -c CMD`). BSD and macOS `script [-q] FILE CMD…` run
    /// the words after FILE as a command, so those are analysed as well
    /// (util-linux rejects them). Without a command it starts an
    /// interactive shell.
    fn unwrap_script(&mut self, args: &[Field], via: &[String], spec: bool) -> Unwrap {
        let mut command = None;
        let mut output_log = false;
        // The first operand, and where the options stop when they are not
        // permuted (BSD reads the command after FILE from there).
        let mut file: Option<Field> = None;
        let mut first_stop = None;
        let mut at = 0;
        while at < args.len() {
            let (opts, end) = wrapper_options(args.get(at..).unwrap_or(&[]), SCRIPT_OPTIONS);
            for (def, value) in opts {
                if is_unknown(def) {
                    self.unknown_option("script", value.as_ref(), spec);
                    continue;
                }
                match def.long {
                    Some("command") => command = value,
                    Some(log @ ("log-io" | "log-out" | "log-in" | "log-timing" | "timing")) => {
                        output_log |= matches!(log, "log-io" | "log-out");
                        if let Some(file) = value {
                            self.own_access(FileMode::Write, &file, via, spec);
                        }
                    }
                    _ => {}
                }
            }
            let dashdash = end > 0 && args.get(at + end - 1).is_some_and(|f| f.text == "--");
            first_stop.get_or_insert(at + end);
            at += end;
            if file.is_none() {
                file = args.get(at).cloned();
            }
            if dashdash {
                break;
            }
            at += 1;
        }
        match &file {
            Some(file) => self.own_access(FileMode::Write, file, via, spec),
            None if !output_log => {
                let default = Field {
                    text: "typescript".into(),
                    literal: true,
                    ..Field::default()
                };
                self.own_access(FileMode::Write, &default, via, spec);
            }
            None => {}
        }
        if let Some(c) = &command {
            self.option_script(&c.text, c.literal, via, "script -c", spec);
        }
        // The BSD reading: the options, FILE, then the command as written.
        let bsd = args.get(first_stop.unwrap_or(0) + 1..).unwrap_or(&[]);
        if !bsd.is_empty() {
            return Unwrap::Also {
                extra: vec![(bsd.to_vec(), "script".into())],
            };
        }
        if command.is_some() {
            Unwrap::Replaced
        } else {
            Unwrap::Done
        }
    }

    /// `unshare [OPTION]... [PROGRAM [ARG]...]` and `nsenter`: the program
    /// runs in new or another process's namespaces. `unshare -w DIR` runs
    /// it in DIR. Entering another mount namespace (`nsenter -m`, `-a`)
    /// starts it in that namespace's `/`. A new root (`unshare -R`,
    /// `nsenter -r`) or another process's directory (`nsenter -w`, `-W`)
    /// puts its paths somewhere this analysis cannot see: the program is
    /// still analysed, and the line needs review.
    ///
    /// Both are also judged as commands of their own (so a pack that does
    /// not name them asks for review), besides the program they run.
    fn unwrap_namespace(
        &mut self,
        name: &str,
        argv: &[Field],
        via: &[String],
        spec: bool,
    ) -> Unwrap {
        let args = argv.get(1..).unwrap_or(&[]);
        let unshare = name == "unshare";
        let defs = if unshare {
            UNSHARE_OPTIONS
        } else {
            NSENTER_OPTIONS
        };
        let (opts, end) = wrapper_options(args, defs);
        let rest = args.get(end..).unwrap_or(&[]);
        let mut dir = None;
        let mut opaque = None;
        for (def, value) in opts {
            if is_unknown(def) {
                self.unknown_option(name, value.as_ref(), spec);
                continue;
            }
            match def.long {
                Some("wd") if unshare => dir = value,
                Some(opt @ ("root" | "wd" | "wdns")) => opaque = Some(opt),
                Some("mount" | "all") if !unshare => {
                    dir = Some(Field {
                        text: "/".into(),
                        literal: true,
                        ..Field::default()
                    });
                }
                _ => {}
            }
        }
        if rest.is_empty() {
            return Unwrap::Done;
        }
        if let Some(opt) = opaque {
            if !spec {
                self.issue(Issue::Opaque {
                    construct: format!("{name} --{opt}"),
                });
            }
        } else if let Some(dir) = dir {
            let label = if unshare { "unshare -w" } else { "nsenter -m" };
            let ran = self.run_in_dir(&dir, rest, via, label, spec);
            self.record(argv.to_vec(), Vec::new(), via.to_vec(), spec, 0);
            return ran;
        }
        Unwrap::Also {
            extra: vec![(rest.to_vec(), name.to_string())],
        }
    }

    /// `env [OPTION]... [-] [NAME=VALUE]... [COMMAND [ARG]...]`. Options
    /// are read the getopt way ([`wrapper_options`]); `-S STRING` splits
    /// STRING into words that are read again as options, assignments and
    /// the command, as GNU env does (`env -S'-C /etc cat shadow'`).
    fn unwrap_env(&mut self, args: &[Field], via: &[String], spec: bool) -> Unwrap {
        let mut words: Vec<Field> = args.to_vec();
        let mut chdir: Option<Field> = None;
        let mut at = 0;
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > 16 {
                // GNU env would keep reading: what runs is not known here.
                if !spec {
                    self.issue(Issue::Opaque {
                        construct: "env -S nested more than 16 times".into(),
                    });
                }
                return Unwrap::Done;
            }
            let (opts, end) = wrapper_options(words.get(at..).unwrap_or(&[]), ENV_OPTIONS);
            at += end;
            let mut split = None;
            for (def, value) in opts {
                match def.long {
                    Some("chdir") => chdir = value,
                    Some("split-string") => split = value,
                    _ => {}
                }
            }
            let Some(s) = split else { break };
            // GNU env's own quoting and `${VAR}` in the string are not
            // modelled: words from such a string are not literal.
            let literal = s.literal && !s.text.contains(['\'', '"', '\\', '$', '#']);
            let mut spliced: Vec<Field> = s
                .text
                .split_whitespace()
                .map(|p| Field {
                    text: p.into(),
                    literal,
                    ..Field::default()
                })
                .collect();
            spliced.extend(words.get(at..).unwrap_or(&[]).iter().cloned());
            words = spliced;
            at = 0;
        }
        // A lone `-` is `-i`.
        if words.get(at).is_some_and(|f| f.text == "-") {
            at += 1;
        }
        // Every word holding `=` before the command is put into the
        // environment (`x.y=1` too), as env's putenv does.
        while let Some(f) = words.get(at) {
            if !self.env_word(f, via, spec) {
                break;
            }
            at += 1;
        }
        let rest: Vec<Field> = words.get(at..).unwrap_or(&[]).to_vec();
        // `env -C DIR CMD` runs CMD in DIR.
        if let Some(dir) = chdir {
            return self.run_in_dir(&dir, &rest, via, "env -C", spec);
        }
        Unwrap::Inner {
            rest,
            label: "env".into(),
            dynamic: false,
        }
    }

    /// The recipes of `make --eval=TEXT`/`-E TEXT`: lines after a tab,
    /// and the text after `;` on a rule line (`x: ; CMD`). Make expands
    /// `$(…)` and `${…}` (`$(shell CMD)` runs CMD while reading): text
    /// holding them is not analysed but reported.
    fn make_eval(&mut self, name: &str, args: &[Field], via: &[String], spec: bool) {
        // A makefile from elsewhere (`-f -`, `-f /dev/stdin`, `-f <(…)`,
        // `--file=/tmp/x.mk`, `-C /tmp/x`, `-I ../x`): its recipes run, and
        // nothing here reads them. One in the repository is like the
        // Makefile itself.
        // `make MAKEFILES=F` / `MAKEFLAGS=…` as arguments read F or options.
        if !spec
            && args.iter().any(|f| {
                let t = f.text.as_str();
                ["MAKEFILES=", "MAKEFLAGS=", "GNUMAKEFLAGS=", "MFLAGS="]
                    .iter()
                    .any(|p| t.starts_with(p))
            })
        {
            self.issue(Issue::UnknownScript {
                shell: format!("{name} MAKEFILES="),
            });
        }
        let foreign = |v: &Field| !v.literal || v.text == "-" || outside_repo(&v.text);
        // A variable set on make's command line overrides the makefile's,
        // and recipes run its value (`make test GO='curl … | sh; true'`,
        // `CC='sh -c id'`): one holding shell syntax or a command with
        // arguments is a script here. Flags (`CFLAGS='-O2 -g'`) are not.
        let injects = |f: &Field| {
            let Some((name, value)) = f.text.split_once('=') else {
                return false;
            };
            is_name(name)
                && (!f.literal
                    || value.contains([';', '|', '&', '$', '`', '(', ')', '<', '>', '\n'])
                    || (value.trim().contains(' ') && !value.trim_start().starts_with('-')))
        };
        if !spec && args.iter().take_while(|f| f.text != "--").any(injects) {
            self.issue(Issue::UnknownScript {
                shell: format!("{name} VAR=…"),
            });
        }
        let mut i = 0;
        while let Some(f) = args.get(i) {
            if f.text == "--" {
                break;
            }
            i += 1;
            for opt in ["--file", "--makefile", "--directory", "--include-dir"] {
                let short = match opt {
                    "--file" | "--makefile" => "-f",
                    "--directory" => "-C",
                    _ => "-I",
                };
                let spelt = option_spelling(&f.text, opt).or_else(|| {
                    (!f.text.starts_with("--"))
                        .then(|| option_spelling(&f.text, short))
                        .flatten()
                });
                let value = match spelt {
                    Some(Spelt::Next) => args.get(i).cloned(),
                    Some(Spelt::Joined(v)) => Some(Field {
                        text: v.to_string(),
                        ..f.clone()
                    }),
                    None => continue,
                };
                if value.as_ref().is_none_or(foreign) && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("{name} {opt}"),
                    });
                }
            }
        }
        // `SHELL=PROG` (or `.SHELLFLAGS`) on the command line runs every
        // recipe through PROG.
        let shell_set = |t: &str| {
            let t = t.trim_start();
            t.starts_with("SHELL") || t.starts_with(".SHELLFLAGS") || t.contains(".RECIPEPREFIX")
        };
        if !spec
            && args
                .iter()
                .any(|f| f.text.contains('=') && shell_set(&f.text))
        {
            self.issue(Issue::UnknownScript {
                shell: format!("{name} SHELL="),
            });
        }
        let mut i = 0;
        while let Some(f) = args.get(i) {
            if f.text == "--" {
                break;
            }
            let spelt = option_spelling(&f.text, "--eval").or_else(|| {
                (!f.text.starts_with("--"))
                    .then(|| option_spelling(&f.text, "-E"))
                    .flatten()
            });
            let value = match spelt {
                Some(Spelt::Next) => {
                    i += 1;
                    args.get(i).cloned()
                }
                Some(Spelt::Joined(v)) => Some(Field {
                    text: v.to_string(),
                    ..f.clone()
                }),
                None => None,
            };
            i += 1;
            let Some(text) = value else { continue };
            let label = format!("{name} --eval");
            // `$(…)` expands (`$(shell CMD)` runs CMD); `SHELL`,
            // `.SHELLFLAGS` and `.RECIPEPREFIX` change how recipes run or
            // are found.
            if !text.literal || text.text.contains('$') || text.text.lines().any(shell_set) {
                if !spec {
                    self.issue(Issue::UnknownScript { shell: label });
                }
                continue;
            }
            for line in text.text.lines() {
                let recipe = match line.strip_prefix('\t') {
                    Some(r) => Some(r),
                    None => line
                        .split_once(':')
                        .and_then(|(_, rule)| rule.split_once(';'))
                        .map(|(_, r)| r),
                };
                if let Some(r) = recipe {
                    let r = r.trim_start_matches(['@', '-', '+', ' ', '\t']);
                    if !r.trim().is_empty() {
                        self.nested(r, via, &label, spec);
                    }
                }
            }
        }
    }

    /// `cmake -E SUBCOMMAND ARGS`, CMake's portable file and process
    /// commands, analysed as the shell commands that do the same: `rm`,
    /// `copy` (cp), `copy_directory` (cp -rT), `rename` (mv), `env` and
    /// `time` (the command they run), `chdir DIR CMD` (CMD in DIR), …
    /// A subcommand not modelled here, or words not statically known, make
    /// the command opaque.
    fn cmake_command(&mut self, args: &[Field], via: &[String], spec: bool) -> Unwrap {
        let Some((sub, rest)) = args.split_first() else {
            return Unwrap::Done;
        };
        let label = format!("cmake -E {}", sub.text);
        let opaque = |w: &mut Self| {
            if !spec {
                w.issue(Issue::Opaque {
                    construct: label.clone(),
                });
            }
            Unwrap::Done
        };
        if !sub.literal || rest.iter().any(|f| !f.literal) {
            return opaque(self);
        }
        let words: Vec<&str> = rest.iter().map(|f| f.text.as_str()).collect();
        let quoted = |ws: &[&str]| ws.iter().map(|w| sh_quote(w)).collect::<Vec<_>>().join(" ");
        // `cmake -E copy -t DEST FILE…` (3.26) or `copy FILE… DEST`.
        let files_and_dest = |ws: &[&str]| -> Option<(Vec<String>, String)> {
            if ws.first() == Some(&"-t") {
                let dest = ws.get(1)?;
                return Some((
                    ws.get(2..)?.iter().map(|w| w.to_string()).collect(),
                    dest.to_string(),
                ));
            }
            let (dest, files) = ws.split_last()?;
            Some((
                files.iter().map(|w| w.to_string()).collect(),
                dest.to_string(),
            ))
        };
        let line = match sub.text.as_str() {
            "env" => {
                let mut i = 0;
                while let Some(f) = rest.get(i) {
                    let t = f.text.as_str();
                    if t == "--" {
                        i += 1;
                        break;
                    } else if t == "--modify" {
                        i += 2;
                    } else if t.starts_with("--") || self.env_word(f, via, spec) {
                        // `--unset=NAME`; `NAME=VALUE`.
                        i += 1;
                    } else {
                        break;
                    }
                }
                return Unwrap::Inner {
                    rest: rest.get(i..).unwrap_or(&[]).to_vec(),
                    label,
                    dynamic: false,
                };
            }
            "time" => {
                return Unwrap::Inner {
                    rest: rest.to_vec(),
                    label,
                    dynamic: false,
                };
            }
            "chdir" => {
                let Some((dir, cmd)) = rest.split_first() else {
                    return Unwrap::Done;
                };
                return self.run_in_dir(dir, cmd, via, "cmake -E chdir", spec);
            }
            "copy" | "copy_if_different" | "copy_if_newer" => match files_and_dest(&words) {
                Some((files, dest)) if !files.is_empty() => {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    format!("cp -- {} {}", quoted(&files), sh_quote(&dest))
                }
                _ => return Unwrap::Done,
            },
            "copy_directory" | "copy_directory_if_different" => match files_and_dest(&words) {
                Some((dirs, dest)) => dirs
                    .iter()
                    .map(|d| format!("cp -rT -- {} {}", sh_quote(d), sh_quote(&dest)))
                    .collect::<Vec<_>>()
                    .join("; "),
                None => return Unwrap::Done,
            },
            "rm" => format!("rm {}", quoted(&words)),
            "remove" => {
                let files: Vec<&str> = words.iter().copied().filter(|w| *w != "-f").collect();
                format!("rm -f -- {}", quoted(&files))
            }
            "remove_directory" => format!("rm -rf -- {}", quoted(&words)),
            "make_directory" => format!("mkdir -p -- {}", quoted(&words)),
            "touch" => format!("touch -- {}", quoted(&words)),
            "touch_nocreate" => format!("touch -c -- {}", quoted(&words)),
            "rename" => format!("mv -- {}", quoted(&words)),
            "create_symlink" => format!("ln -s -- {}", quoted(&words)),
            "create_hardlink" => format!("ln -- {}", quoted(&words)),
            "cat" => format!("cat -- {}", quoted(&words)),
            "md5sum" | "sha1sum" | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum" => {
                format!("sha256sum -- {}", quoted(&words))
            }
            "compare_files" => {
                let files: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                format!("cmp -- {}", quoted(&files))
            }
            "tar" => format!("tar {}", quoted(&words)),
            "echo" | "echo_append" | "capabilities" | "environment" | "sleep" | "true"
            | "false" | "help" => return Unwrap::Done,
            _ => return opaque(self),
        };
        if !line.trim().is_empty() {
            self.nested(&line, via, &label, spec);
        }
        Unwrap::Replaced
    }

    /// A `NAME=VALUE` word that env, sudo or `cmake -E env` put into the
    /// command's environment: any word holding `=` after a non-empty
    /// name. A valid shell name is tracked as a variable. Returns whether
    /// `f` is such a word.
    fn env_word(&mut self, f: &Field, via: &[String], spec: bool) -> bool {
        let Some((n, v)) = f.text.split_once('=').filter(|(n, _)| !n.is_empty()) else {
            return false;
        };
        if is_name(n) {
            let (n, v) = (n.to_string(), v.to_string());
            self.assigned(&n, f.literal.then_some(v.as_str()), via, spec);
        } else if n.starts_with("BASH_FUNC_") {
            // `env 'BASH_FUNC_ls%%=() { …; }' bash -c ls`: bash imports it
            // as a function that any command of that name then runs. Its
            // body is judged as if it ran.
            if !f.literal {
                self.issue(Issue::UnknownScript {
                    shell: "an exported function".into(),
                });
            }
            let body = v.trim_start();
            let body = body.strip_prefix("()").unwrap_or(body).to_string();
            self.nested(&body, via, "exported function", spec);
        }
        true
    }

    /// `sudo [OPTION]... [NAME=VALUE]... [COMMAND [ARG]...]`: `-D DIR`
    /// runs the command in DIR, `-i` in the target user's home, `-e FILE`
    /// edits FILE (sudoedit), and `-R DIR` runs it below another root,
    /// where no path means what it says.
    fn unwrap_sudo(&mut self, args: &[Field], via: &[String], spec: bool) -> Unwrap {
        // sudo reads options, and `NAME=VALUE` words between them, up to
        // the command.
        let mut opts = Vec::new();
        let mut rest = args;
        loop {
            let (more, end) = wrapper_options(rest, SUDO_OPTIONS);
            opts.extend(more);
            let stopped_at_dashdash = end > 0 && rest.get(end - 1).is_some_and(|f| f.text == "--");
            rest = rest.get(end..).unwrap_or(&[]);
            let mut assigned = false;
            while let Some((f, more)) = rest.split_first() {
                if f.text.starts_with('/') || !self.env_word(f, via, spec) {
                    break;
                }
                assigned = true;
                rest = more;
            }
            if !assigned
                || stopped_at_dashdash
                || !rest.first().is_some_and(|f| f.text.starts_with('-'))
            {
                break;
            }
        }
        let value = |long: &str| {
            opts.iter()
                .rev()
                .find(|(d, _)| d.long == Some(long))
                .map(|(_, v)| v.clone())
        };
        // With `-s`/`-i` sudo hands the words to a shell, escaping all but
        // `$`: a `$` in them expands there.
        if (value("shell").is_some() || value("login").is_some())
            && rest.iter().any(|f| f.text.contains('$'))
        {
            if !spec {
                self.issue(Issue::UnknownScript {
                    shell: "sudo -s".into(),
                });
            }
            return Unwrap::Done;
        }
        if let Some(root) = value("chroot") {
            if !spec {
                self.issue(Issue::Opaque {
                    construct: format!(
                        "sudo --chroot {}",
                        root.map(|r| r.text).unwrap_or_default()
                    ),
                });
            }
        } else if value("edit").is_some() {
            let mut edit = vec![Field {
                text: "sudoedit".into(),
                literal: true,
                ..Field::default()
            }];
            edit.extend(rest.iter().cloned());
            return Unwrap::Inner {
                rest: edit,
                label: "sudo -e".into(),
                dynamic: false,
            };
        } else if let Some(Some(dir)) = value("chdir") {
            return self.run_in_dir(&dir, rest, via, "sudo -D", spec);
        } else if value("login").is_some() {
            // A login shell starts in the target user's home.
            let user = value("user").flatten().map_or("root".into(), |u| u.text);
            // Another user's home is not known here (`/var/lib/postgresql`):
            // the command is judged with its directory unknown.
            let home = Field {
                text: "/root".into(),
                literal: user == "root",
                ..Field::default()
            };
            return self.run_in_dir(&home, rest, via, "sudo -i", spec);
        }
        Unwrap::Inner {
            rest: rest.to_vec(),
            label: "sudo".into(),
            dynamic: false,
        }
    }

    /// A wrapper that runs `rest` in `dir` ([`DIR_WRAPPERS`]):
    /// analysed as `cd DIR && rest` in a nested script, so relative paths
    /// are placed below DIR. Words that are not plain literals (variables,
    /// globs) cannot be re-quoted faithfully: the command is analysed where
    /// it stands, with its directory unknown.
    fn run_in_dir(
        &mut self,
        dir: &Field,
        rest: &[Field],
        via: &[String],
        label: &str,
        spec: bool,
    ) -> Unwrap {
        if rest.is_empty() {
            return Unwrap::Done;
        }
        if !dir.literal || rest.iter().any(|f| !f.literal || f.glob) {
            let saved = self.cwd.take();
            let mut v = via.to_vec();
            v.push(label.to_string());
            self.dispatch(rest.to_vec(), Vec::new(), v, spec, &Stdin::Inherited, 0);
            self.cwd = saved;
            return Unwrap::Replaced;
        }
        let words: Vec<String> = rest.iter().map(|f| sh_quote(&f.text)).collect();
        let line = format!("cd {} && {}", sh_quote(&dir.text), words.join(" "));
        self.nested(&line, via, label, spec);
        Unwrap::Replaced
    }

    fn unwrap_shell(
        &mut self,
        name: &str,
        args: &[Field],
        via: &[String],
        spec: bool,
        stdin: &Stdin,
    ) -> Unwrap {
        let label = format!("{name} -c");
        let mut i = 0;
        let mut has_c = false;
        // `-s`: the script comes on standard input and every operand is a
        // positional parameter.
        let mut has_s = false;
        // busybox sh -c …
        let args = if name == "busybox" {
            match args.first() {
                Some(f) if SHELLS.contains(&f.text.as_str()) => args.get(1..).unwrap_or(&[]),
                _ => return Unwrap::Done,
            }
        } else {
            args
        };
        while let Some(f) = args.get(i) {
            let t = f.text.as_str();
            if t == "--" {
                i += 1;
                break;
            }
            if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
                if !t.starts_with("--") && t.contains('c') {
                    has_c = true;
                }
                if !t.starts_with("--") && t.contains('s') {
                    has_s = true;
                }
                if matches!(t, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
                    i += 1;
                }
                i += 1;
                continue;
            }
            break;
        }
        if has_c {
            match args.get(i) {
                Some(script) => {
                    if !script.literal {
                        self.issue(Issue::UnknownScript {
                            shell: label.clone(),
                        });
                    }
                    self.nested(&script.text, via, &label, spec);
                }
                None => self.issue(Issue::UnknownScript {
                    shell: label.clone(),
                }),
            }
            return Unwrap::Replaced;
        }
        if let Some(script) = args.get(i).filter(|s| !has_s && s.text != "-") {
            // `bash script.sh`: runs a file; the policy judges the command.
            // `bash -` and `bash -s …` read the script from standard input.
            // `bash <(curl …)` runs text nobody has seen.
            if is_stream_path(&script.text) && !spec {
                self.issue(Issue::UnknownScript {
                    shell: format!("{name} <(…)"),
                });
            }
            return Unwrap::Done;
        }
        match stdin {
            Stdin::Known(text) => {
                let text = text.clone();
                self.nested(&text, via, &format!("{name} <stdin>"), spec);
                return Unwrap::Replaced;
            }
            Stdin::Unknown => {
                if !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("{name} <stdin>"),
                    });
                }
            }
            Stdin::Inherited => {}
        }
        Unwrap::Done
    }

    /// Commands recorded since `before` that used a loop variable bound to a
    /// glob: its words and redirections stand for whatever the glob
    /// matches, and a glob in command position is not a literal name.
    fn mark_glob_values(&mut self, before: usize, globs: &[String], depth: usize, spec: bool) {
        let has = |t: &str| globs.iter().any(|g| t.contains(g.as_str()));
        let mut issues = Vec::new();
        for c in self.out.commands.get_mut(before..).unwrap_or_default() {
            if c.via.len() > depth && !spec {
                // Inside `sh -c "… $f"` or `eval` the file name is re-parsed
                // as code, and a file name can hold anything.
                issues.push(Issue::Opaque {
                    construct: "a loop variable bound to a glob inside a nested script or wrapper"
                        .into(),
                });
            }
            if c.argv.iter().skip(1).any(|a| has(a)) {
                c.glob_args = true;
            }
            for r in &mut c.redirects {
                if has(&r.path) {
                    r.literal = false;
                }
            }
            if has(&c.program) && !spec {
                issues.push(Issue::NonLiteralCommand {
                    word: c.program.clone(),
                });
            }
        }
        for i in issues {
            self.issue(i);
        }
    }

    /// `shopt -s dotglob|nocaseglob|extglob|globstar` and `GLOBIGNORE`
    /// change what globs expand to; glob operands are then not judged.
    fn glob_options(&mut self, argv: &[String], spec: bool) {
        if spec || argv.first().map(String::as_str) != Some("shopt") {
            return;
        }
        if argv.iter().skip(1).any(|a| {
            matches!(
                a.as_str(),
                "dotglob" | "nocaseglob" | "nocasematch" | "extglob" | "globstar" | "failglob"
            )
        }) {
            self.issue(Issue::Opaque {
                construct: "`shopt` changing how globs expand".into(),
            });
        }
    }

    /// Builtins that evaluate their arguments as code: variable names with
    /// subscripts (`printf -v 'a[$(cmd)]'`, `read`, `declare`, `unset`,
    /// `mapfile`, `test -v`…) and arithmetic (`let`). The command
    /// substitutions in such arguments run, so they are analysed.
    fn evaluated_arguments(&mut self, words: &[Field], via: &[String], spec: bool) {
        const NAME_BUILTINS: &[&str] = &[
            "printf",
            "read",
            "declare",
            "typeset",
            "local",
            "export",
            "readonly",
            "unset",
            "mapfile",
            "readarray",
            "test",
            "[",
            "let",
            "getopts",
            "wait",
        ];
        let Some(first) = words.first() else {
            return;
        };
        let name = first.text.as_str();
        if !first.literal || !NAME_BUILTINS.contains(&name) {
            return;
        }
        for f in words.iter().skip(1) {
            if name == "let" {
                let e = arithmetic_code(&f.text, &self.vars);
                self.inner(e, via, spec);
            } else if holds_code(&f.text) {
                let e = word_code(&f.text, &self.vars);
                self.inner(e, via, spec);
            }
        }
    }

    /// An environment variable set on this line. Some variables name a
    /// command another program runs (`GIT_PAGER`, `GIT_SSH_COMMAND`,
    /// `EDITOR`): their value is analysed as a script. Others load code
    /// nothing here can see (`LD_PRELOAD`, `BASH_ENV`): reported as opaque.
    /// Records a variable's value, or that it was given one not known here.
    /// Bash evaluates a variable named in arithmetic as an expression in
    /// turn, subscripts and their `$(…)` included, so arithmetic naming a
    /// variable of unknown value is opaque (see `expand::arithmetic_into`).
    fn set_var(&mut self, name: String, value: Option<String>) {
        // An element (`printf -v 'c[1]' x`) makes the array's value unknown.
        let (name, value) = match name.split_once('[') {
            Some((base, _)) => (base.to_string(), None),
            None => (name, value),
        };
        let unknown = format!("{}{name}", crate::expand::UNKNOWN_VAR);
        self.vars
            .remove(&format!("{}{name}", crate::expand::NUMERIC_VAR));
        match value {
            Some(v) => {
                self.vars.remove(&unknown);
                self.vars.insert(name, v);
            }
            None => {
                self.vars.remove(&name);
                self.vars.insert(unknown, String::new());
            }
        }
    }

    /// A variable given a number not known here (by arithmetic).
    fn set_numeric(&mut self, name: String) {
        let base = name.split('[').next().unwrap_or("").to_string();
        self.set_var(base.clone(), None);
        self.vars.insert(
            format!("{}{base}", crate::expand::NUMERIC_VAR),
            String::new(),
        );
    }

    /// A lasting `IFS` with a character other than a blank makes unquoted
    /// expansions split where this analysis does not
    /// (`IFS=,; f=x,.env; cat $f` reads `.env`): what follows is opaque.
    /// A prefix (`IFS=, read -r a b`) lasts one command and is not this.
    fn ifs_changed(&mut self, name: &str, value: Option<&str>, spec: bool) {
        if name == "IFS"
            && !spec
            && value.is_none_or(|v| v.chars().any(|c| !matches!(c, ' ' | '\t' | '\n')))
        {
            self.issue(Issue::Opaque {
                construct: "`IFS` set to split words at other characters".into(),
            });
        }
    }

    fn assigned(&mut self, name: &str, value: Option<&str>, via: &[String], spec: bool) {
        // A literal value holding `$(…)` runs it wherever bash evaluates the
        // value as code: arithmetic (`x='a[$(cmd)]'; $((x))`), subscripts,
        // `${x@P}`. Analysed as a command that may run.
        if let Some(v) = value
            && holds_code(v)
        {
            let e = word_code(v, &self.vars);
            self.inner(e, via, true);
        }
        if name == "CDPATH" && value.is_none_or(|v| !v.is_empty()) {
            self.cdpath = true;
        }
        // A `PATH` with any entry but a system directory may put another
        // program behind an allowed name.
        if name == "PATH"
            && value.is_none_or(|v| v.split(':').any(|d| !crate::is_system_bin_dir(d)))
        {
            self.lookup_changed = true;
        }
        if name == "GLOBIGNORE" && !spec {
            self.issue(Issue::Opaque {
                construct: "`GLOBIGNORE`, which changes how globs expand".into(),
            });
            return;
        }
        // pytest adds the words of `PYTEST_ADDOPTS` to its command line,
        // wherever it runs below this one (`make test`, `tox`): analysed
        // as a pytest line of its own, so `--basetemp=/etc` is seen.
        if name == "PYTEST_ADDOPTS" {
            match value {
                Some(v) if !v.trim().is_empty() => {
                    self.nested(&format!("pytest {v}"), via, "PYTEST_ADDOPTS=", spec)
                }
                Some(_) => {}
                None if !spec => self.issue(Issue::Opaque {
                    construct:
                        "`PYTEST_ADDOPTS` with a value not known here, which adds options to pytest"
                            .into(),
                }),
                None => {}
            }
            return;
        }
        if SCRIPT_VARS.contains(&name) {
            match value {
                Some(v) if !v.trim().is_empty() => self.nested(v, via, &format!("{name}="), spec),
                Some(_) => {}
                None => self.issue(Issue::UnknownScript {
                    shell: format!("{name}="),
                }),
            }
        } else if CODE_VARS.contains(&name)
            || (matches!(
                name,
                "RUSTFLAGS" | "RUSTDOCFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "CARGO_BUILD_RUSTFLAGS"
            ) && value.is_none_or(risky_rustflags))
            // A compiler or toolchain named by path (`CC=/tmp/x`); a name
            // (`CC=clang`, `RUSTUP_TOOLCHAIN=nightly`) is looked up as usual.
            // (`GOWORK=/tmp/x/go.work` names modules anywhere.)
            || (matches!(name, "CC" | "CXX" | "LD" | "AR" | "RUSTUP_TOOLCHAIN" | "GOWORK")
                && value.is_none_or(|v| v.contains(['/', ' ', '~'])))
            // Modules Python imports from outside the repository (an entry
            // inside it is like the repository's own code).
            || (name == "PYTHONPATH"
                && value.is_none_or(|v| {
                    v.split(':').any(outside_repo)
                }))
            || name.starts_with("GIT_CONFIG")
            // Cargo's settings by environment: `CARGO_TARGET_<T>_RUNNER`,
            // `CARGO_TARGET_<T>_LINKER`, `CARGO_BUILD_RUSTC`, aliases.
            || (name.starts_with("CARGO_")
                && ["RUNNER", "LINKER", "RUSTC", "RUSTDOC", "WRAPPER", "ALIAS_"]
                    .iter()
                    .any(|k| name.contains(k)))
            // npm reads every option from `npm_config_*`, in any case: the
            // ones that run code or move its configuration.
            || name
                .to_ascii_lowercase()
                .strip_prefix("npm_config_")
                .is_some_and(|k| NPM_RISKY.contains(&k.replace('-', "_").as_str()))
            || (name == "NODE_OPTIONS"
                && value.is_none_or(|v| {
                    v.split_whitespace().any(|o| {
                        [
                            "-r",
                            "--require",
                            "--import",
                            "--loader",
                            "--experimental-loader",
                        ]
                        .iter()
                        .any(|f| o == *f || o.starts_with(&format!("{f}=")))
                    })
                }))
                && !spec
        {
            self.issue(Issue::Opaque {
                construct: format!("`{name}`, which makes programs load code"),
            });
        } else if !spec
            && (CONFIG_VARS.contains(&name)
                // `TF_CLI_ARGS` and `TF_CLI_ARGS_<command>` add options to
                // every terraform command (`-migrate-state`, `-var-file=`).
                || name == "TF_CLI_ARGS"
                || name.starts_with("TF_CLI_ARGS_")
                || (name.starts_with("GIT_TRACE")
                    && value.is_none_or(|v| {
                        !(v.chars().all(|c| c.is_ascii_digit())
                            || matches!(v.to_ascii_lowercase().as_str(), "true" | "false"))
                    })))
        {
            self.issue(Issue::Opaque {
                construct: format!(
                    "`{name}`, which changes which configuration programs load or where they write"
                ),
            });
        }
    }

    /// `xargs -a FILE` / `parallel -a FILE` read FILE: recorded as the
    /// wrapper itself so the file is checked.
    fn arg_file(&mut self, name: &str, args: &[Field], flags: &[&str], via: &[String], spec: bool) {
        // Joined and abbreviated spellings too (`-a.env`, `--arg=.env`).
        let texts: Vec<&str> = args.iter().map(|f| f.text.as_str()).collect();
        let Some(file) =
            crate::files::option_value(name, &texts, flags).or_else(|| flag_value(args, flags))
        else {
            return;
        };
        self.push(SimpleCommand {
            argv: vec![name.to_string(), "-a".into(), file],
            program: name.to_string(),
            via: via.to_vec(),
            speculative: spec,
            ..SimpleCommand::default()
        });
    }

    /// Commands a `sed` or `awk` program runs (`sed '1e CMD'`, `s///e`,
    /// `awk 'BEGIN{system("CMD")}'`, `print | "CMD"`).
    fn text_program(&mut self, name: &str, args: &[Field], via: &[String], spec: bool) {
        let texts: Vec<&str> = args.iter().map(|f| f.text.as_str()).collect();
        let is_sed = name.ends_with("sed");
        let program = if is_sed {
            crate::files::sed_program(&texts)
        } else {
            crate::files::awk_program(&texts)
        };
        let effects = match program {
            Ok(Some(p)) if is_sed => scripts::sed_effects(&p),
            Ok(Some(p)) => scripts::awk_effects(&p),
            Ok(None) => return,
            Err(()) => {
                if !spec {
                    self.issue(Issue::Opaque {
                        construct: format!("a {name} program read from a file"),
                    });
                }
                return;
            }
        };
        for e in effects {
            match e {
                Effect::Exec(Some(cmd)) => {
                    let label = if is_sed {
                        format!("{name} e")
                    } else {
                        format!("{name} system")
                    };
                    self.nested(&cmd, via, &label, spec);
                }
                Effect::Exec(None) => {
                    if !spec {
                        self.issue(Issue::UnknownScript {
                            shell: format!("{name} (a command built at run time)"),
                        });
                    }
                }
                Effect::Unparsed => {
                    if !spec {
                        self.issue(Issue::Opaque {
                            construct: format!("the {name} program"),
                        });
                    }
                }
                Effect::Read(_) | Effect::Write(_) => {}
            }
        }
    }

    /// Options whose value is a command the program runs: `--opt VALUE`,
    /// `--opt=VALUE` and their getopt spellings (see [`option_spelling`]).
    fn option_commands(
        &mut self,
        name: &str,
        args: &[Field],
        opts: &[(&str, Run)],
        via: &[String],
        spec: bool,
    ) {
        let mut i = 0;
        while let Some(f) = args.get(i) {
            let t = f.text.as_str();
            if t == "--" {
                break;
            }
            for (o, run) in opts {
                let value = match option_spelling(t, o) {
                    Some(Spelt::Next) => {
                        i += 1;
                        args.get(i).map(|v| (v.text.clone(), v.literal))
                    }
                    Some(Spelt::Joined(v)) => Some((v.to_string(), f.literal)),
                    None => None,
                };
                let Some((value, literal)) = value else {
                    continue;
                };
                if !literal {
                    if !spec {
                        self.issue(Issue::UnknownScript {
                            shell: format!("{name} {o}"),
                        });
                    }
                } else if !value.trim().is_empty() {
                    let text = match run {
                        Run::Program => sh_quote(&value),
                        Run::Line => value,
                        Run::Commas => value.split(',').map(sh_quote).collect::<Vec<_>>().join(" "),
                    };
                    self.nested(&text, via, &format!("{name} {o}"), spec);
                }
                break;
            }
            i += 1;
        }
    }

    /// Words a program runs as a command; any word not statically known
    /// makes the command unknown.
    fn command_words<'f>(
        &mut self,
        words: &[String],
        mut fields: impl Iterator<Item = &'f Field>,
        via: &[String],
        label: &str,
        spec: bool,
    ) {
        if words.is_empty() {
            return;
        }
        if fields.any(|f| !f.literal) {
            if !spec {
                self.issue(Issue::UnknownScript {
                    shell: label.to_string(),
                });
            }
            return;
        }
        self.nested(&words.join(" "), via, label, spec);
    }

    /// `git` options that run commands: `-c core.pager=CMD` (and the other
    /// command-valued keys), `-c alias.X=…` used as the subcommand,
    /// `--upload-pack=CMD`, `--receive-pack`/`--exec`, `ext::` URLs.
    fn unwrap_git(&mut self, argv: &[Field], via: &[String], spec: bool) -> Unwrap {
        let args = argv.get(1..).unwrap_or(&[]);
        let mut aliases: Vec<(String, String)> = Vec::new();
        let mut i = 0;
        // Global options before the subcommand.
        while let Some(f) = args.get(i) {
            let t = f.text.as_str();
            if !t.starts_with('-') {
                break;
            }
            let config = if t == "-c" {
                i += 1;
                args.get(i).map(|v| (v.text.clone(), v.literal))
            } else if t == "-C" || t == "--git-dir" || t == "--work-tree" || t == "--namespace" {
                i += 1;
                None
            } else if let Some(v) =
                t.strip_prefix("--config-env=")
                    .map(str::to_string)
                    .or_else(|| {
                        (t == "--config-env").then(|| {
                            i += 1;
                            args.get(i).map(|f| f.text.clone()).unwrap_or_default()
                        })
                    })
            {
                let key = v.split_once('=').map(|(k, _)| k).unwrap_or(&v);
                // An alias defined from the environment runs what a
                // variable holds, which is not seen here.
                if key.to_ascii_lowercase().starts_with("alias.") && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("git --config-env {key}"),
                    });
                }
                if git_exec_key(&key.to_ascii_lowercase()).is_some() && !spec {
                    self.issue(Issue::UnknownScript {
                        shell: format!("git --config-env {key}"),
                    });
                }
                None
            } else {
                if t.starts_with("--exec-path=") && !spec {
                    self.issue(Issue::Opaque {
                        construct:
                            "`git --exec-path`, which runs git commands from another directory"
                                .into(),
                    });
                }
                None
            };
            if let Some((kv, literal)) = config {
                let (key, value) = kv.split_once('=').unwrap_or((kv.as_str(), "true"));
                let key = key.to_ascii_lowercase();
                if let Some(alias) = key.strip_prefix("alias.") {
                    aliases.push((alias.to_string(), value.to_string()));
                } else if let Some(script) = git_exec_key(&key) {
                    if !literal {
                        self.issue(Issue::UnknownScript {
                            shell: format!("git -c {key}"),
                        });
                    } else if script {
                        let v = value.strip_prefix('!').unwrap_or(value);
                        if !v.trim().is_empty() {
                            self.nested(v, via, &format!("git -c {key}"), spec);
                        }
                    } else if !spec {
                        self.issue(Issue::Opaque {
                            construct: format!("`git -c {key}`, which makes git load code"),
                        });
                    }
                }
            }
            i += 1;
        }
        let sub = args.get(i).map(|f| f.text.as_str()).unwrap_or("");
        let rest = args.get(i + 1..).unwrap_or(&[]);
        // Options of the subcommand that name a program to run.
        let mut transport = vec![
            ("--upload-pack", Run::Line),
            ("--receive-pack", Run::Line),
            ("--exec", Run::Line),
        ];
        if matches!(sub, "clone" | "ls-remote" | "archive") {
            transport.push(("-u", Run::Line));
        }
        if sub != "rebase" {
            self.option_commands(&format!("git {sub}"), rest, &transport, via, spec);
        }
        if rest.iter().any(|f| f.text.starts_with("ext::")) && !spec {
            self.issue(Issue::UnknownScript {
                shell: "git ext:: transport".into(),
            });
        }
        // Subcommands that run a command given to them.
        let label = format!("git {sub}");
        match sub {
            "difftool" => {
                let opts = [("-x", Run::Line), ("--extcmd", Run::Line)];
                self.option_commands(&label, rest, &opts, via, spec);
            }
            "rebase" => {
                let opts = [("-x", Run::Line), ("--exec", Run::Line)];
                self.option_commands(&label, rest, &opts, via, spec);
            }
            // `git grep -OCMD` / `--open-files-in-pager=CMD` (the value is
            // optional, so only an attached one counts).
            "grep" => {
                for f in rest {
                    let t = f.text.as_str();
                    if t == "--" {
                        break;
                    }
                    let pager = t
                        .split_once('=')
                        .filter(|(o, _)| o.len() >= 4 && "--open-files-in-pager".starts_with(o))
                        .map(|(_, v)| v)
                        .or_else(|| t.strip_prefix("-O").filter(|v| !v.is_empty()));
                    if let Some(p) = pager {
                        self.command_words(&[p.to_string()], [f].into_iter(), via, &label, spec);
                    }
                }
            }
            "filter-branch" => {
                let opts = [
                    "--env-filter",
                    "--tree-filter",
                    "--index-filter",
                    "--parent-filter",
                    "--msg-filter",
                    "--commit-filter",
                    "--tag-name-filter",
                ]
                .map(|o| (o, Run::Line));
                self.option_commands(&label, rest, &opts, via, spec);
            }
            // `git bisect run CMD ARGS…` runs CMD with its arguments.
            "bisect" if rest.first().is_some_and(|f| f.text == "run") => {
                let words: Vec<String> = rest.iter().skip(1).map(|f| sh_quote(&f.text)).collect();
                self.command_words(&words, rest.iter().skip(1), via, "git bisect run", spec);
            }
            // `git submodule foreach [--recursive] CMD…` runs the words as
            // one shell command.
            "submodule" => {
                if let Some(k) = rest.iter().position(|f| f.text == "foreach") {
                    let tail = rest.get(k + 1..).unwrap_or(&[]);
                    let tail: Vec<&Field> = tail
                        .iter()
                        .skip_while(|f| f.text == "--recursive")
                        .collect();
                    let words: Vec<String> = tail.iter().map(|f| f.text.clone()).collect();
                    self.command_words(
                        &words,
                        tail.iter().copied(),
                        via,
                        "git submodule foreach",
                        spec,
                    );
                }
            }
            _ => {}
        }
        // `git -c alias.x='push --force' x` runs `git push --force`.
        // git looks alias names up without regard to case (`-c alias.logs=…
        // logS`).
        let sub_lower = sub.to_ascii_lowercase();
        if let Some((_, value)) = aliases.iter().rev().find(|(a, _)| *a == sub_lower) {
            if let Some(script) = value.strip_prefix('!') {
                let tail: Vec<String> = rest.iter().map(|f| sh_quote(&f.text)).collect();
                self.nested(
                    &format!("{script} {}", tail.join(" ")),
                    via,
                    "git alias",
                    spec,
                );
                return Unwrap::Done;
            }
            let mut expanded = vec![Field {
                text: "git".into(),
                literal: true,
                ..Field::default()
            }];
            expanded.extend(value.split_whitespace().map(|w| Field {
                text: w.to_string(),
                literal: true,
                ..Field::default()
            }));
            expanded.extend(rest.iter().cloned());
            let mut v = via.to_vec();
            v.push("git alias".into());
            self.dispatch(expanded, Vec::new(), v, spec, &Stdin::Inherited, 0);
        }
        Unwrap::Done
    }

    fn nested(&mut self, text: &str, via: &[String], label: &str, spec: bool) {
        let mut v = via.to_vec();
        v.push(label.to_string());
        // Variables assigned inside a nested script do not leak out, and the
        // outer ones are visible only when exported; we keep them visible,
        // which resolves more, never less.
        let saved = self.vars.clone();
        let saved_cwd = self.cwd.clone();
        self.script(text, &v, spec);
        self.vars = saved;
        self.cwd = saved_cwd;
    }

    /// Code of another language: look for shell commands it may run.
    fn inline_code(&mut self, code: &str, via: &[String], lang: &str) {
        const EXEC_HINTS: &[&str] = &[
            "system",
            "subprocess",
            "popen",
            "spawn",
            "exec",
            "child_process",
            "os.",
            "`",
            "%x",
            "shell",
            "Command",
            "run(",
        ];
        if !EXEC_HINTS.iter().any(|h| code.contains(h)) {
            return;
        }
        let mut v = via.to_vec();
        v.push(format!("{lang} inline code"));
        for s in string_literals(code) {
            if s.trim().is_empty() {
                continue;
            }
            let saved = self.vars.clone();
            self.script(&s, &v, true);
            self.vars = saved;
        }
        // Lists of arguments such as subprocess.run(["rm", "-rf", "x"]).
        for list in argv_literals(code) {
            let fields = list
                .into_iter()
                .map(|t| Field {
                    text: t,
                    literal: true,
                    ..Field::default()
                })
                .collect();
            self.dispatch(fields, Vec::new(), v.clone(), true, &Stdin::Inherited, 0);
        }
    }
}

/// How a program runs the value of an option.
#[derive(Clone, Copy)]
enum Run {
    /// As a program path, without arguments (`rg --pre PROG`).
    Program,
    /// As a command line (`git difftool -x 'CMD ARGS'`).
    Line,
    /// As a program and its arguments separated by commas
    /// (`gcc -wrapper PROG,ARG`).
    Commas,
}

enum Unwrap {
    /// The command is a wrapper around `rest`.
    Inner {
        rest: Vec<Field>,
        label: String,
        dynamic: bool,
    },
    /// The command runs these commands too (`find -exec`).
    Also { extra: Vec<(Vec<Field>, String)> },
    /// Not a wrapper.
    Done,
    /// The command only runs a script that was analysed in its place.
    Replaced,
}

/// A path that names a stream rather than a file (`<(…)` becomes
/// `/dev/fd/63`).
fn is_stream_path(p: &str) -> bool {
    p == "/dev/stdin" || crate::files::is_fd_path(p)
}

fn push_redirect(out: &mut Vec<Redirect>, mode: FileMode, fields: &[Field]) {
    let literal = fields.len() == 1 && fields.iter().all(|f| f.literal && !f.glob);
    let text: Vec<&str> = fields.iter().map(|f| f.text.as_str()).collect();
    out.push(Redirect {
        mode,
        path: text.join(" "),
        literal,
    });
}

/// Skip leading options of a wrapper; `with_value` options consume the next word.
/// Quotes one word for a shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn skip_opts<'a>(args: &'a [Field], with_value: &[&str]) -> &'a [Field] {
    let mut i = 0;
    while let Some(f) = args.get(i) {
        let t = f.text.as_str();
        if t == "--" {
            return args.get(i + 1..).unwrap_or(&[]);
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        // `nice -10 cmd` and `-n10` forms carry their value inline.
        if with_value.contains(&t) {
            i += 2;
        } else {
            i += 1;
        }
    }
    args.get(i..).unwrap_or(&[])
}

/// The value of the first of `flags` (`-c VALUE`, `-cVALUE` not supported).
fn flag_value(args: &[Field], flags: &[&str]) -> Option<String> {
    let mut it = args.iter();
    while let Some(f) = it.next() {
        if flags.contains(&f.text.as_str()) {
            return it.next().map(|v| v.text.clone());
        }
        for fl in flags {
            if fl.starts_with("--")
                && let Some(v) = f.text.strip_prefix(&format!("{fl}="))
            {
                return Some(v.to_string());
            }
        }
    }
    None
}

fn is_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a stage writes to stdout, when it is a literal `echo`/`printf`.
fn known_output(cmd: &SimpleCommand) -> Stdin {
    if cmd.dynamic_args || !cmd.redirects.is_empty() {
        return Stdin::Unknown;
    }
    match cmd.name() {
        "echo" => {
            let args: Vec<&str> = cmd
                .argv
                .iter()
                .skip(1)
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            let text = args.join(" ");
            let escaped = cmd
                .argv
                .iter()
                .any(|a| a == "-e" || a == "-ne" || a == "-en");
            Stdin::Known(if escaped {
                crate::expand::ansi_c_unescape(&text)
            } else {
                text
            })
        }
        "printf" => {
            let args: Vec<&str> = cmd.argv.iter().skip(1).map(String::as_str).collect();
            match args.split_first() {
                Some((fmt, rest)) if !fmt.contains('%') && rest.is_empty() => {
                    Stdin::Known(crate::expand::ansi_c_unescape(fmt))
                }
                Some((fmt, rest)) if *fmt == "%s" => Stdin::Known(rest.join("")),
                Some((fmt, rest)) if *fmt == "%s\\n" => {
                    Stdin::Known(rest.iter().map(|r| format!("{r}\n")).collect())
                }
                _ => Stdin::Unknown,
            }
        }
        _ => Stdin::Unknown,
    }
}

/// `printf -v NAME FMT [ARGS]` (the words after `printf`): the variable's
/// name and, when every word is literal and the format uses only `%s`,
/// `%b`, `%%` and numeric conversions, the text bash assigns
/// ([`printf_text`]). `None` when there is no `-v`; a `None` value when the
/// text is not known.
fn printf_v(args: &[Field]) -> Option<(String, Option<String>)> {
    let first = args.first()?;
    let (name, rest) = match first.text.strip_prefix("-v") {
        Some("") => {
            let f = args.get(1)?;
            (f.literal.then_some(f.text.as_str())?, args.get(2..))
        }
        // `-vNAME`: the name joined to the option.
        Some(joined) if first.literal => (joined, args.get(1..)),
        _ => return None,
    };
    let n = name.split('[').next().unwrap_or("").to_string();
    if !is_name(&n) {
        return None;
    }
    let rest = rest.unwrap_or(&[]);
    let rest = match rest.first() {
        Some(f) if f.text == "--" => rest.get(1..).unwrap_or(&[]),
        _ => rest,
    };
    let value = if rest.iter().all(|f| f.literal) {
        rest.split_first()
            .and_then(|(fmt, vals)| printf_text(&fmt.text, vals))
    } else {
        None
    };
    // An element (`printf -v 'c[1]' x`) is returned with its subscript,
    // so the array is recorded as unknown, not as `c=x`.
    if name.contains('[') {
        return Some((name.to_string(), value));
    }
    Some((n, value))
}

/// What `printf FMT VALS` prints, for the conversions [`printf_v`] knows;
/// the format is reused while arguments remain, as bash does.
fn printf_text(fmt: &str, vals: &[Field]) -> Option<String> {
    let fmt: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut k = 0;
    loop {
        let mut i = 0;
        let mut used = false;
        let mut lit = String::new();
        while let Some(&c) = fmt.get(i) {
            i += 1;
            if c != '%' {
                lit.push(c);
                continue;
            }
            out.push_str(&crate::expand::ansi_c_unescape(&std::mem::take(&mut lit)));
            // Flags, width and precision, then the conversion.
            while fmt.get(i).is_some_and(|c| "-+ #0123456789.".contains(*c)) {
                i += 1;
            }
            let conv = *fmt.get(i)?;
            i += 1;
            if conv == '%' {
                out.push('%');
                continue;
            }
            used = true;
            let arg = vals.get(k).map_or("", |f| f.text.as_str());
            k += 1;
            match conv {
                's' | 'q' | 'Q' => out.push_str(arg),
                'b' => out.push_str(&crate::expand::ansi_c_unescape(arg)),
                'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'f' | 'e' | 'g' | 'E' | 'G' => out.push('0'),
                _ => return None,
            }
        }
        out.push_str(&crate::expand::ansi_c_unescape(&lit));
        if !used || k >= vals.len() {
            return Some(out);
        }
    }
}

/// Crude bracket depth, used to refuse inputs that would exhaust the parser's
/// stack before handing them over.
fn nesting_depth(text: &str) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    for b in text.bytes() {
        match b {
            b'(' | b'{' | b'`' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // Backquotes toggle, so the count above overestimates them; that only makes
    // the refusal more conservative.
    let keywords = text
        .split_whitespace()
        .filter(|w| matches!(*w, "if" | "while" | "until" | "for" | "case"))
        .count();
    max.max(keywords / 4)
}

/// Expand a here-document body: parameters and command substitutions only.
/// Where brush-parser and bash part ways (found in review), outside
/// quotes: a `#` glued to the `)` before it (`echo <(true)#; cmd`: bash
/// reads the `#` as part of the word, the parser as a comment), bash 5.3's
/// `${ cmd; }` and `${| cmd; }`, `((…) )` (bash: a subshell inside a
/// subshell, the parser: arithmetic), and here-documents whose delimiter
/// bash finds elsewhere (a line `EOF)` inside `$(…)`, or one that
/// backslash-newlines join into `EOF`).
fn parser_disagreement(text: &str) -> Option<&'static str> {
    let b = text.as_bytes();
    let (mut single, mut double) = (false, false);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' if !single => i += 1,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && i > 0 && b.get(i - 1) == Some(&b')') => {
                return Some("a `#` right after `)`");
            }
            b'$' if !single
                && b.get(i + 1) == Some(&b'{')
                && b.get(i + 2)
                    .is_some_and(|n| matches!(n, b' ' | b'\t' | b'\n' | b'|')) =>
            {
                return Some("a `${ …; }` command substitution");
            }
            b'(' if !single && !double && b.get(i + 1) == Some(&b'(') => {
                if arithmetic_unbalanced(b.get(i + 2..).unwrap_or(&[])) {
                    return Some("`((…) )`, a nested subshell to bash");
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    if text.contains("<<") && heredoc_disagrees(text) {
        return Some("a here-document whose end bash finds elsewhere");
    }
    None
}

/// Whether the text after an `((` closes a parenthesis it did not open
/// other than with `))` (`((rm -rf ~) )`).
fn arithmetic_unbalanced(b: &[u8]) -> bool {
    let mut depth = 0usize;
    for (j, &c) in b.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' if depth == 0 => return b.get(j + 1) != Some(&b')'),
            b')' => depth -= 1,
            _ => {}
        }
    }
    false
}

/// Whether a here-document body holds, before the delimiter line the parser
/// uses, a line bash takes as the delimiter: `DELIM)` (bash 5.2 ends a
/// here-document inside `$(…)` there) or, for an unquoted delimiter, lines
/// joined by backslash-newlines into `DELIM`.
fn heredoc_disagrees(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let mut rest = *line;
        while let Some(at) = rest.find("<<") {
            rest = rest.get(at + 2..).unwrap_or("");
            let body = rest.strip_prefix('-').unwrap_or(rest).trim_start();
            let raw: String = body
                .chars()
                .take_while(|c| {
                    !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | '<' | '>' | ')')
                })
                .collect();
            // Delimiters start like a word (`EOF`, `'EOF'`, `\EOF`, `_END`);
            // not a number (`$((1<<2))`) or a here-string (`<<<`).
            if !raw.starts_with(|c: char| {
                c.is_ascii_alphabetic() || matches!(c, '_' | '\'' | '"' | '\\')
            }) {
                continue;
            }
            let quoted = raw.contains(['\'', '"', '\\']);
            let delim: String = raw
                .chars()
                .filter(|c| !matches!(c, '\'' | '"' | '\\'))
                .collect();
            if delim.is_empty() {
                continue;
            }
            let mut joined = String::new();
            for l in lines.iter().skip(n + 1) {
                let t = l.trim_start_matches('\t');
                if joined.is_empty() && (*t == delim || l == &delim) {
                    break;
                }
                if t.starts_with(&format!("{delim})")) {
                    return true;
                }
                if !quoted {
                    if let Some(cont) = l.strip_suffix('\\') {
                        joined.push_str(cont);
                        continue;
                    }
                    if !joined.is_empty() {
                        joined.push_str(l);
                        if joined.trim_start_matches('\t') == delim {
                            return true;
                        }
                        joined.clear();
                    }
                }
            }
        }
    }
    false
}

fn expand_heredoc(body: &str, vars: &HashMap<String, String>) -> (String, Vec<String>) {
    let options = ParserOptions::default();
    let Some(Ok(pieces)) = crate::guarded(|| brush_parser::word::parse_heredoc(body, &options))
    else {
        return (body.to_string(), Vec::new());
    };
    let mut subs = Vec::new();
    let mut text = String::new();
    for p in pieces {
        let source = body.get(p.start_index..p.end_index).unwrap_or_default();
        match p.piece {
            brush_parser::word::WordPiece::CommandSubstitution(s)
            | brush_parser::word::WordPiece::BackquotedCommandSubstitution(s) => {
                text.push_str("$(");
                text.push_str(&s);
                text.push(')');
                subs.push(s);
            }
            brush_parser::word::WordPiece::ParameterExpansion(
                brush_parser::word::ParameterExpr::Parameter {
                    parameter: brush_parser::word::Parameter::Named(n),
                    indirect: false,
                },
            ) => match vars.get(&n) {
                Some(v) => text.push_str(v),
                None => {
                    text.push_str("${");
                    text.push_str(&n);
                    text.push('}');
                }
            },
            brush_parser::word::WordPiece::Text(t) => text.push_str(&t),
            brush_parser::word::WordPiece::EscapeSequence(s) => {
                text.push_str(s.strip_prefix('\\').unwrap_or(&s))
            }
            // Any other expansion (`${x:-$(cmd)}`, `$(( $(cmd) ))`,
            // `${a[$(cmd)]}`) runs the substitutions inside it: its source
            // is analysed as a line of its own, which walks them (and,
            // its command name not being a literal, is never allowed). Its
            // value is not known: the text keeps a stand-in that no script
            // fed this body parses as what bash would run.
            other => {
                let substitutes = source.contains('`')
                    || source
                        .match_indices("$(")
                        .any(|(i, _)| source.get(i + 2..i + 3) != Some("("));
                if substitutes {
                    subs.push(source.to_string());
                }
                text.push_str(&format!("{other:?}"));
            }
        }
    }
    (text, subs)
}

/// String literals in code of another language ('…', "…", `…`).
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, '"' | '\'' | '`') {
            let mut s = String::new();
            let mut closed = false;
            while let Some(d) = chars.next() {
                if d == '\\' {
                    if let Some(e) = chars.next() {
                        match e {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            other => s.push(other),
                        }
                    }
                    continue;
                }
                if d == c {
                    closed = true;
                    break;
                }
                s.push(d);
            }
            if closed {
                out.push(s);
            }
        }
    }
    out
}

/// Bracketed lists of string literals (`["rm", "-rf", "x"]`, `('rm', '-rf')`).
fn argv_literals(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (open, close) in [('[', ']'), ('(', ')')] {
        let mut rest = code;
        while let Some(start) = rest.find(open) {
            let after = rest.get(start + 1..).unwrap_or("");
            let Some(end) = after.find(close) else { break };
            let inner = after.get(..end).unwrap_or("");
            let items: Vec<&str> = inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() >= 2
                && items.iter().all(|s| {
                    (s.starts_with('"') && s.ends_with('"')
                        || s.starts_with('\'') && s.ends_with('\''))
                        && s.len() >= 2
                })
            {
                out.push(
                    items
                        .iter()
                        .map(|s| s.get(1..s.len() - 1).unwrap_or("").to_string())
                        .collect(),
                );
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
    }
    out
}

/// Words of a line made only of characters bash gives no meaning to (letters,
/// digits, `_-./:,@+=%`, blanks), whose first word is not a reserved word or
/// an assignment; `None` for anything else.
fn plain_words(text: &str) -> Option<Vec<&str>> {
    let safe = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '_' | '-' | '.' | '/' | ':' | ',' | '@' | '+' | '=' | '%' | ' ' | '\t'
            )
    };
    if text.len() > 4096 || !text.chars().all(safe) {
        return None;
    }
    let words: Vec<&str> = text.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let first = words.first()?;
    const RESERVED: &[&str] = &[
        "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
        "in", "function", "select", "time", "coproc",
    ];
    if first.contains(['=', '%']) || RESERVED.contains(first) {
        return None;
    }
    Some(words)
}

/// How an option word spells option `opt`.
enum Spelt<'a> {
    /// The value is the next word.
    Next,
    /// The value is joined to the word.
    Joined(&'a str),
}

/// Whether the word `t` spells `opt` the way getopt and git read options:
/// `--opt VALUE`, `--opt=VALUE`, an abbreviation of at least two letters
/// (`--exe=…`, `--use-comp …`), a short option with its value joined
/// (`-xCMD`) or ending a cluster (`-ix CMD`, `-ixCMD`), and single-dash
/// long options with `=` (`-toolexec=…`). Reading a word as the option
/// when the program would not only adds analysis.
fn option_spelling<'a>(t: &'a str, opt: &str) -> Option<Spelt<'a>> {
    if t == opt {
        return Some(Spelt::Next);
    }
    if opt.starts_with("--") {
        let (name, value) = match t.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (t, None),
        };
        if name.starts_with("--") && name.len() >= 4 && opt.starts_with(name) {
            return Some(value.map_or(Spelt::Next, Spelt::Joined));
        }
        return None;
    }
    if opt.len() == 2 && t.starts_with('-') && !t.starts_with("--") {
        let letter = opt.get(1..)?;
        let cluster = t.get(1..)?;
        let at = cluster.find(letter)?;
        let rest = cluster.get(at + letter.len()..)?;
        return Some(if rest.is_empty() {
            Spelt::Next
        } else {
            Spelt::Joined(rest)
        });
    }
    t.strip_prefix(opt)
        .and_then(|v| v.strip_prefix('='))
        .map(Spelt::Joined)
}

/// The command `argv` (its program named by basename), run via `via`.
fn simple_command(argv: Vec<Field>, via: Vec<String>, spec: bool) -> SimpleCommand {
    let program = argv.first().map(|f| f.text.clone()).unwrap_or_default();
    let dynamic_args = argv.iter().skip(1).any(|f| !f.literal);
    let glob_args = argv.iter().skip(1).any(|f| f.glob);
    let single_words = argv
        .iter()
        .map(|f| !f.glob && (f.literal || f.whole))
        .collect();
    let mut texts: Vec<String> = argv.into_iter().map(|f| f.text).collect();
    if let Some(first) = texts.first_mut() {
        *first = basename(first).to_string();
    }
    SimpleCommand {
        argv: texts,
        program,
        via,
        dynamic_args,
        single_words,
        glob_args,
        speculative: spec,
        ..SimpleCommand::default()
    }
}

/// The labels of wrappers that run a command in another directory
/// ([`Walker::run_in_dir`]): the `cd` of their nested script changes the
/// directory, where `env cd` or `sudo cd` would not.
const DIR_WRAPPERS: &[&str] = &[
    "env -C",
    "sudo -D",
    "sudo -i",
    "cmake -E chdir",
    "unshare -w",
    "nsenter -m",
];

/// How an option takes its value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Arg {
    No,
    /// The rest of the word, or else the next word.
    Required,
    /// Only joined: `-hHOST`, `--preserve-env=LIST`.
    Optional,
}

/// One option of a wrapper program: its letter, its long name and how it
/// takes a value.
#[derive(Debug)]
struct OptDef {
    short: Option<char>,
    long: Option<&'static str>,
    arg: Arg,
}

const fn opt(short: char, long: &'static str, arg: Arg) -> OptDef {
    OptDef {
        short: Some(short),
        long: Some(long),
        arg,
    }
}

const fn long_opt(long: &'static str, arg: Arg) -> OptDef {
    OptDef {
        short: None,
        long: Some(long),
        arg,
    }
}

/// A short option whose long form takes its value differently.
const fn short_opt(short: char, arg: Arg) -> OptDef {
    OptDef {
        short: Some(short),
        long: None,
        arg,
    }
}

/// GNU env (coreutils 9).
const ENV_OPTIONS: &[OptDef] = &[
    opt('a', "argv0", Arg::Required),
    opt('i', "ignore-environment", Arg::No),
    opt('0', "null", Arg::No),
    opt('u', "unset", Arg::Required),
    opt('C', "chdir", Arg::Required),
    opt('S', "split-string", Arg::Required),
    opt('v', "debug", Arg::No),
    long_opt("block-signal", Arg::Optional),
    long_opt("default-signal", Arg::Optional),
    long_opt("ignore-signal", Arg::Optional),
    long_opt("list-signal-handling", Arg::No),
    long_opt("help", Arg::No),
    long_opt("version", Arg::No),
];

/// sudo 1.9 (`+Aa:BbC:c:D:Eeg:Hh::iKklNnPp:R:r:SsT:t:U:u:Vv`).
const SUDO_OPTIONS: &[OptDef] = &[
    opt('A', "askpass", Arg::No),
    opt('a', "auth-type", Arg::Required),
    opt('B', "bell", Arg::No),
    opt('b', "background", Arg::No),
    opt('C', "close-from", Arg::Required),
    opt('c', "login-class", Arg::Required),
    opt('D', "chdir", Arg::Required),
    // `-E` takes no value; `--preserve-env=LIST` may.
    short_opt('E', Arg::No),
    long_opt("preserve-env", Arg::Optional),
    opt('e', "edit", Arg::No),
    opt('g', "group", Arg::Required),
    opt('H', "set-home", Arg::No),
    // `-h HOST` takes the next word unless that is an option or
    // `NAME=VALUE`, when it is `--help` and nothing runs.
    short_opt('h', Arg::Required),
    long_opt("help", Arg::No),
    long_opt("host", Arg::Required),
    opt('i', "login", Arg::No),
    opt('K', "remove-timestamp", Arg::No),
    opt('k', "reset-timestamp", Arg::No),
    opt('l', "list", Arg::No),
    opt('N', "no-update", Arg::No),
    opt('n', "non-interactive", Arg::No),
    opt('P', "preserve-groups", Arg::No),
    opt('p', "prompt", Arg::Required),
    opt('R', "chroot", Arg::Required),
    opt('r', "role", Arg::Required),
    opt('S', "stdin", Arg::No),
    opt('s', "shell", Arg::No),
    opt('T', "command-timeout", Arg::Required),
    opt('t', "type", Arg::Required),
    opt('U', "other-user", Arg::Required),
    opt('u', "user", Arg::Required),
    opt('V', "version", Arg::No),
    opt('v', "validate", Arg::No),
];

/// GNU time 1.9 (`+af:o:pqvV`).
const TIME_OPTIONS: &[OptDef] = &[
    opt('a', "append", Arg::No),
    opt('f', "format", Arg::Required),
    opt('o', "output-file", Arg::Required),
    opt('p', "portability", Arg::No),
    opt('q', "quiet", Arg::No),
    opt('v', "verbose", Arg::No),
    opt('V', "version", Arg::No),
    long_opt("help", Arg::No),
];

/// ltrace 0.7 (`+cfhiLrStTVa:A:D:e:F:l:n:o:p:s:u:w:x:X:`).
const LTRACE_OPTIONS: &[OptDef] = &[
    opt('a', "align", Arg::Required),
    short_opt('A', Arg::Required),
    opt('b', "no-signals", Arg::No),
    short_opt('c', Arg::No),
    opt('C', "demangle", Arg::No),
    opt('D', "debug", Arg::Required),
    short_opt('e', Arg::Required),
    short_opt('f', Arg::No),
    opt('F', "config", Arg::Required),
    opt('h', "help", Arg::No),
    short_opt('i', Arg::No),
    short_opt('L', Arg::No),
    opt('l', "library", Arg::Required),
    opt('n', "indent", Arg::Required),
    opt('o', "output", Arg::Required),
    short_opt('p', Arg::Required),
    short_opt('r', Arg::No),
    short_opt('s', Arg::Required),
    short_opt('S', Arg::No),
    short_opt('t', Arg::No),
    short_opt('T', Arg::No),
    short_opt('u', Arg::Required),
    opt('V', "version", Arg::No),
    opt('w', "where", Arg::Required),
    short_opt('x', Arg::Required),
    short_opt('X', Arg::Required),
];

/// strace 6 (`+a:Ab:cCdDe:E:fFhiI:kno:O:p:P:qrs:S:tTu:U:vVwxX:yYzZ`).
/// Short options whose long form takes an optional value take none.
const STRACE_OPTIONS: &[OptDef] = &[
    opt('a', "columns", Arg::Required),
    opt('A', "output-append-mode", Arg::No),
    opt('b', "detach-on", Arg::Required),
    opt('c', "summary-only", Arg::No),
    opt('C', "summary", Arg::No),
    opt('d', "debug", Arg::No),
    short_opt('D', Arg::No),
    long_opt("daemonize", Arg::Optional),
    short_opt('e', Arg::Required),
    opt('E', "env", Arg::Required),
    opt('f', "follow-forks", Arg::No),
    short_opt('F', Arg::No),
    opt('h', "help", Arg::No),
    opt('i', "instruction-pointer", Arg::No),
    opt('I', "interruptible", Arg::Required),
    opt('k', "stack-trace", Arg::No),
    opt('n', "syscall-number", Arg::No),
    opt('o', "output", Arg::Required),
    opt('O', "summary-syscall-overhead", Arg::Required),
    opt('p', "attach", Arg::Required),
    opt('P', "trace-path", Arg::Required),
    short_opt('q', Arg::No),
    short_opt('r', Arg::No),
    opt('s', "string-limit", Arg::Required),
    opt('S', "summary-sort-by", Arg::Required),
    short_opt('t', Arg::No),
    short_opt('T', Arg::No),
    opt('u', "user", Arg::Required),
    opt('U', "summary-columns", Arg::Required),
    opt('v', "no-abbrev", Arg::No),
    opt('V', "version", Arg::No),
    opt('w', "summary-wall-clock", Arg::No),
    short_opt('x', Arg::No),
    opt('X', "const-print-style", Arg::Required),
    short_opt('y', Arg::No),
    short_opt('Y', Arg::No),
    opt('z', "successful-only", Arg::No),
    opt('Z', "failed-only", Arg::No),
    long_opt("trace", Arg::Required),
    long_opt("trace-fds", Arg::Required),
    long_opt("signal", Arg::Required),
    long_opt("signals", Arg::Required),
    long_opt("status", Arg::Required),
    long_opt("abbrev", Arg::Required),
    long_opt("verbose", Arg::Required),
    long_opt("raw", Arg::Required),
    long_opt("read", Arg::Required),
    long_opt("write", Arg::Required),
    long_opt("fault", Arg::Required),
    long_opt("inject", Arg::Required),
    long_opt("kvm", Arg::Required),
    long_opt("decode-pids", Arg::Required),
    long_opt("argv0", Arg::Required),
    long_opt("syscall-limit", Arg::Required),
    long_opt("stack-trace-frame-limit", Arg::Required),
    long_opt("quiet", Arg::Optional),
    long_opt("silent", Arg::Optional),
    long_opt("silence", Arg::Optional),
    long_opt("daemonised", Arg::Optional),
    long_opt("daemonized", Arg::Optional),
    long_opt("stack-traces", Arg::No),
    long_opt("failing-only", Arg::No),
    long_opt("relative-timestamps", Arg::Optional),
    long_opt("absolute-timestamps", Arg::Optional),
    long_opt("timestamps", Arg::Optional),
    long_opt("syscall-times", Arg::Optional),
    long_opt("strings-in-hex", Arg::Optional),
    long_opt("decode-fds", Arg::Optional),
    long_opt("secontext", Arg::Optional),
    long_opt("tips", Arg::Optional),
    long_opt("output-separately", Arg::No),
    long_opt("seccomp-bpf", Arg::No),
    long_opt("kill-on-exit", Arg::No),
    long_opt("pidns-translation", Arg::No),
];

/// script, util-linux 2.38 (`+aB:c:eE:fI:O:o:qm:T:t::Vh`).
const SCRIPT_OPTIONS: &[OptDef] = &[
    opt('a', "append", Arg::No),
    opt('B', "log-io", Arg::Required),
    opt('c', "command", Arg::Required),
    opt('e', "return", Arg::No),
    opt('E', "echo", Arg::Required),
    opt('f', "flush", Arg::No),
    long_opt("force", Arg::No),
    opt('I', "log-in", Arg::Required),
    opt('O', "log-out", Arg::Required),
    opt('o', "output-limit", Arg::Required),
    opt('q', "quiet", Arg::No),
    opt('m', "logging-format", Arg::Required),
    opt('T', "log-timing", Arg::Required),
    opt('t', "timing", Arg::Optional),
    opt('V', "version", Arg::No),
    opt('h', "help", Arg::No),
];

/// unshare, util-linux 2.38 (`+fhVmuinpCTUl:rR:w:S:G:c`). The namespace
/// options take a file only in their long, joined form.
const UNSHARE_OPTIONS: &[OptDef] = &[
    short_opt('m', Arg::No),
    long_opt("mount", Arg::Optional),
    short_opt('u', Arg::No),
    long_opt("uts", Arg::Optional),
    short_opt('i', Arg::No),
    long_opt("ipc", Arg::Optional),
    short_opt('n', Arg::No),
    long_opt("net", Arg::Optional),
    short_opt('p', Arg::No),
    long_opt("pid", Arg::Optional),
    short_opt('U', Arg::No),
    long_opt("user", Arg::Optional),
    short_opt('C', Arg::No),
    long_opt("cgroup", Arg::Optional),
    short_opt('T', Arg::No),
    long_opt("time", Arg::Optional),
    opt('f', "fork", Arg::No),
    long_opt("kill-child", Arg::Optional),
    long_opt("mount-proc", Arg::Optional),
    long_opt("mount-binfmt", Arg::Optional),
    long_opt("map-user", Arg::Required),
    long_opt("map-group", Arg::Required),
    long_opt("map-users", Arg::Required),
    long_opt("map-groups", Arg::Required),
    long_opt("map-auto", Arg::No),
    opt('r', "map-root-user", Arg::No),
    opt('c', "map-current-user", Arg::No),
    long_opt("propagation", Arg::Required),
    long_opt("setgroups", Arg::Required),
    long_opt("keep-caps", Arg::No),
    opt('R', "root", Arg::Required),
    opt('w', "wd", Arg::Required),
    opt('S', "setuid", Arg::Required),
    opt('G', "setgid", Arg::Required),
    opt('l', "load-interp", Arg::Required),
    long_opt("monotonic", Arg::Required),
    long_opt("boottime", Arg::Required),
    opt('h', "help", Arg::No),
    opt('V', "version", Arg::No),
];

/// nsenter, util-linux 2.39 (`+ahVt:m::u::i::n::p::C::U::T::S:G:r::w::W::ecFZ`).
const NSENTER_OPTIONS: &[OptDef] = &[
    opt('a', "all", Arg::No),
    opt('t', "target", Arg::Required),
    opt('m', "mount", Arg::Optional),
    opt('u', "uts", Arg::Optional),
    opt('i', "ipc", Arg::Optional),
    opt('n', "net", Arg::Optional),
    opt('p', "pid", Arg::Optional),
    opt('C', "cgroup", Arg::Optional),
    opt('U', "user", Arg::Optional),
    opt('T', "time", Arg::Optional),
    opt('S', "setuid", Arg::Required),
    opt('G', "setgid", Arg::Required),
    long_opt("preserve-credentials", Arg::No),
    long_opt("keep-caps", Arg::No),
    opt('r', "root", Arg::Optional),
    opt('w', "wd", Arg::Optional),
    opt('W', "wdns", Arg::Optional),
    opt('e', "env", Arg::No),
    opt('F', "no-fork", Arg::No),
    opt('Z', "follow-context", Arg::No),
    opt('c', "join-cgroup", Arg::No),
    opt('h', "help", Arg::No),
    opt('V', "version", Arg::No),
];

/// What [`wrapper_options`] returns for an option missing from the table,
/// with the word as its value.
static UNKNOWN_OPTION: OptDef = OptDef {
    short: None,
    long: None,
    arg: Arg::No,
};

fn is_unknown(def: &OptDef) -> bool {
    std::ptr::eq(def, &UNKNOWN_OPTION)
}

/// A wrapper's own options, read the way getopt_long reads them for a
/// program that stops at its first operand (the command it runs):
/// clusters (`-iC DIR`, `-iCDIR`), a value joined or in the next word,
/// long options by any unambiguous abbreviation (`--chd=DIR`, `--ch DIR`);
/// `--` ends the options. Returns the options in order, each with its
/// value, and where the operands start. A word the table does not know
/// (an unknown or ambiguous option) is returned as [`UNKNOWN_OPTION`] and
/// taken to have no value. If the program rejects it too, it fails and
/// runs nothing; if the table is only missing it, the next word may be
/// its value, so callers that cannot rule that out report the line.
/// `-S` of env ends the walk, as its words are read next.
fn wrapper_options(
    args: &[Field],
    defs: &'static [OptDef],
) -> (Vec<(&'static OptDef, Option<Field>)>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    let joined = |f: &Field, v: &str| Field {
        text: v.to_string(),
        ..f.clone()
    };
    while let Some(f) = args.get(i) {
        let t = f.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += 1;
        let mut splits = false;
        if let Some(long) = t.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let def = defs.iter().find(|d| d.long == Some(name)).or_else(|| {
                let mut c = defs
                    .iter()
                    .filter(|d| d.long.is_some_and(|l| l.starts_with(name)));
                match (c.next(), c.next()) {
                    (Some(d), None) if !name.is_empty() => Some(d),
                    _ => None,
                }
            });
            let Some(def) = def else {
                out.push((&UNKNOWN_OPTION, Some(f.clone())));
                continue;
            };
            let value = match (def.arg, value) {
                (Arg::No, _) => None,
                (_, Some(v)) => Some(joined(f, v)),
                (Arg::Required, None) => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                (Arg::Optional, None) => None,
            };
            splits = def.long == Some("split-string");
            out.push((def, value));
        } else {
            let mut rest = t.get(1..).unwrap_or("");
            while let Some(c) = rest.chars().next() {
                let after = rest.get(c.len_utf8()..).unwrap_or("");
                let Some(def) = defs.iter().find(|d| d.short == Some(c)) else {
                    out.push((&UNKNOWN_OPTION, Some(f.clone())));
                    rest = after;
                    continue;
                };
                let value = match def.arg {
                    Arg::No => {
                        out.push((def, None));
                        rest = after;
                        continue;
                    }
                    _ if !after.is_empty() => Some(joined(f, after)),
                    Arg::Optional => None,
                    Arg::Required => {
                        i += 1;
                        args.get(i - 1).cloned()
                    }
                };
                splits = def.long == Some("split-string");
                out.push((def, value));
                break;
            }
        }
        if splits {
            break;
        }
    }
    (out, i.min(args.len()))
}
