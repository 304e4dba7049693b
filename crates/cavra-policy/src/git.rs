//! `git push` analysis: refspecs, force, deletes, `--all`, `--mirror`.

/// One ref a push updates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    /// Destination branch name (`refs/heads/` removed), or the tag ref.
    pub branch: String,
    pub force: bool,
    pub delete: bool,
    pub tag: bool,
}

/// What a push does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Push {
    pub remote: Option<String>,
    pub updates: Vec<RefUpdate>,
    /// `--all` or `--mirror`: every local branch, protected ones included.
    pub all_branches: bool,
    pub mirror: bool,
    /// Pushes the current branch, which is not named on the line.
    pub implicit: bool,
    /// `--force` (or `+`…) was given: it applies to the implicit push too.
    pub force: bool,
}

/// The long options of `git push`, for resolving abbreviations: git
/// accepts any unambiguous prefix (`--mirr` is `--mirror`, `--force-w` is
/// `--force-with-lease`).
const PUSH_LONG: &[&str] = &[
    "all",
    "branches",
    "prune",
    "mirror",
    "dry-run",
    "porcelain",
    "delete",
    "tags",
    "follow-tags",
    "signed",
    "atomic",
    "push-option",
    "receive-pack",
    "exec",
    "force-with-lease",
    "force-if-includes",
    "force",
    "repo",
    "set-upstream",
    "thin",
    "quiet",
    "verbose",
    "progress",
    "recurse-submodules",
    "verify",
    "ipv4",
    "ipv6",
    "no-force-with-lease",
    "no-force-if-includes",
    "no-follow-tags",
    "no-signed",
    "no-atomic",
    "no-thin",
    "no-progress",
    "no-recurse-submodules",
    "no-verify",
];

/// The options a long option written as `name` (without `--` and `=…`)
/// may stand for: itself when git knows it, else every option it is a
/// prefix of. git refuses an ambiguous prefix, so treating it as all of
/// its candidates at once only ever reads a push as more than it is.
fn push_long(name: &str) -> Vec<&'static str> {
    if let Some(exact) = PUSH_LONG.iter().find(|o| **o == name) {
        return vec![exact];
    }
    if name.is_empty() {
        return Vec::new();
    }
    PUSH_LONG
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect()
}

/// Parse the arguments after `git push`.
pub fn parse_push_args(args: &[String]) -> Push {
    let mut push = Push::default();
    let mut force = false;
    let mut delete = false;
    let mut positional: Vec<&str> = Vec::new();
    let mut tags_only = false;
    let mut repo = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let a = a.as_str();
        if a == "--" {
            positional.extend(args.get(i + 1..).unwrap_or(&[]).iter().map(String::as_str));
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let candidates = push_long(name);
            for o in &candidates {
                match *o {
                    "force" | "force-with-lease" | "force-if-includes" => force = true,
                    "delete" => delete = true,
                    "all" | "branches" => push.all_branches = true,
                    "mirror" => {
                        push.mirror = true;
                        push.all_branches = true;
                        force = true;
                    }
                    // `--tags` pushes only tags when no refspec is given;
                    // `--follow-tags` pushes what a plain push would, plus
                    // tags.
                    "tags" => tags_only = true,
                    _ => {}
                }
            }
            // Options whose value may be the next word.
            if let [o] = candidates.as_slice()
                && matches!(
                    *o,
                    "repo" | "receive-pack" | "exec" | "push-option" | "recurse-submodules"
                )
            {
                let v = match value {
                    Some(v) => Some(v.to_string()),
                    None => {
                        i += 1;
                        args.get(i).cloned()
                    }
                };
                if *o == "repo" {
                    repo = v;
                }
            }
        } else if a.len() > 1 && a.starts_with('-') {
            // Combined short flags (`-fu`); `-o` takes the rest of the
            // cluster, or else the next word, as its value (`-uo ci.skip`).
            for (k, c) in a.char_indices().skip(1) {
                match c {
                    'f' => force = true,
                    'd' => delete = true,
                    'o' => {
                        if a.len() == k + 1 {
                            i += 1;
                        }
                        break;
                    }
                    _ => {}
                }
            }
        } else {
            positional.push(a);
        }
        i += 1;
    }
    push.force = force;
    // The first word is the repository even with `--repo`, which only
    // stands in when there is none (`git push --repo=x origin` pushes the
    // current branch to origin).
    let mut pos = positional.into_iter();
    push.remote = pos.next().map(str::to_string).or(repo);
    let specs: Vec<&str> = pos.collect();
    if specs.is_empty() && !push.all_branches {
        if tags_only {
            push.updates.push(RefUpdate {
                branch: "refs/tags/*".into(),
                force,
                delete: false,
                tag: true,
            });
        } else {
            push.implicit = true;
        }
    }
    for s in specs {
        push.updates.push(parse_refspec(s, force, delete));
    }
    push
}

/// Parse one refspec: `main`, `+main`, `HEAD:main`, `src:refs/heads/dst`,
/// `:main` (delete).
pub fn parse_refspec(spec: &str, force: bool, delete: bool) -> RefUpdate {
    let (plus, spec) = match spec.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    // The matching refspec `:` pushes every branch that exists on both
    // sides: it stands for all of them (`*`).
    if spec == ":" {
        return RefUpdate {
            branch: "*".into(),
            force: force || plus,
            delete: false,
            tag: false,
        };
    }
    let (src, dst) = match spec.split_once(':') {
        Some((s, d)) => (s, if d.is_empty() { s } else { d }),
        None => (spec, spec),
    };
    let deleting = delete || (spec.starts_with(':') && src.is_empty());
    let dst = if dst == "HEAD" || dst == "@" {
        "HEAD"
    } else {
        dst
    };
    let tag = dst.starts_with("refs/tags/");
    // git resolves a partial destination as a ref name: `heads/main` is
    // `refs/heads/main`.
    let branch = dst
        .strip_prefix("refs/heads/")
        .or_else(|| dst.strip_prefix("heads/"))
        .unwrap_or(dst)
        .to_string();
    RefUpdate {
        branch,
        force: force || plus,
        delete: deleting,
        tag,
    }
}

/// Interpret the target of a `git_operation` action. Accepted forms:
/// `origin/main` (remote/branch), `origin main`, `origin HEAD:main`,
/// `+main`, `:main`, `refs/heads/main`, or a whole `git push …` line.
pub fn parse_target(target: &str) -> Push {
    let t = target.trim();
    let words: Vec<String> = t.split_whitespace().map(str::to_string).collect();
    if words.first().map(String::as_str) == Some("git") {
        let rest: Vec<String> = words
            .iter()
            .skip_while(|w| *w != "push")
            .skip(1)
            .cloned()
            .collect();
        return parse_push_args(&rest);
    }
    if words.len() >= 2 || words.iter().any(|w| w.starts_with('-')) {
        return parse_push_args(&words);
    }
    let Some(one) = words.first() else {
        return Push {
            implicit: true,
            ..Push::default()
        };
    };
    if one.contains(':') || one.starts_with('+') || one.starts_with("refs/") {
        return Push {
            remote: None,
            updates: vec![parse_refspec(one, false, false)],
            ..Push::default()
        };
    }
    if matches!(one.as_str(), "origin" | "upstream") {
        return Push {
            remote: Some(one.clone()),
            implicit: true,
            ..Push::default()
        };
    }
    match one.split_once('/') {
        // `remote/branch` by convention; `release/1.2` may also be a branch
        // name, so both readings are checked and the stricter one wins.
        Some((remote, branch)) => {
            let mut updates = vec![parse_refspec(branch, false, false)];
            if !matches!(remote, "origin" | "upstream") {
                updates.push(parse_refspec(one, false, false));
            }
            Push {
                remote: Some(remote.to_string()),
                updates,
                ..Push::default()
            }
        }
        None => Push {
            remote: None,
            updates: vec![parse_refspec(one, false, false)],
            ..Push::default()
        },
    }
}

/// The subcommand of a `git` argument vector and its arguments, skipping
/// global options (`-C dir`, `-c k=v`, `--git-dir=…`).
pub fn subcommand(argv: &[String]) -> Option<(&str, &[String])> {
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        match a.as_str() {
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--exec-path"
            | "--config-env" | "--attr-source" | "--super-prefix" => i += 2,
            s if s.starts_with('-') => i += 1,
            s => return Some((s, argv.get(i + 1..).unwrap_or(&[]))),
        }
    }
    None
}

/// Options of `git fetch` and `git pull` whose value is the next word.
const FETCH_VALUE_OPTIONS: &[&str] = &[
    "--depth",
    "--deepen",
    "--shallow-since",
    "--shallow-exclude",
    "--upload-pack",
    "-j",
    "--jobs",
    "--negotiation-tip",
    "--server-option",
    "-o",
    "--refmap",
    "--filter",
    "-X",
    "--strategy-option",
    "-s",
    "--strategy",
    "--recurse-submodules-default",
    "--submodule-prefix",
    "--cleanup",
    "--exec",
];

/// The repository a `git fetch` or `git pull` names (its first operand),
/// when that is a URL or a path rather than a configured remote: content
/// from anywhere (`git pull https://…/r.git main` merges a stranger's
/// `.claude/settings.json`; `git fetch URL && git checkout FETCH_HEAD`).
pub fn fetch_location(argv: &[String]) -> Option<&str> {
    let (sub, args) = subcommand(argv)?;
    if !matches!(sub, "fetch" | "pull") {
        return None;
    }
    // A word that is plainly a URL or a path is one wherever it stands
    // (the walk below may misread an abbreviated option's value).
    let plain = |r: &str| {
        r.contains("://")
            || r.starts_with(['/', '~'])
            || r.starts_with("../")
            || r.ends_with(".git")
            || r.ends_with(".bundle")
    };
    if let Some(w) = args
        .iter()
        .take_while(|w| *w != "--")
        .find(|w| !w.starts_with('-') && plain(w))
    {
        return Some(w.as_str());
    }
    let mut k = 0;
    while let Some(w) = args.get(k) {
        k += 1;
        if w == "--" {
            return args.get(k).map(String::as_str).filter(|r| is_location(r));
        }
        // git takes unambiguous prefixes of long options (`--dep 1`).
        let takes_value = FETCH_VALUE_OPTIONS.contains(&w.as_str())
            || (w.starts_with("--")
                && !w.contains('=')
                && w.len() >= 4
                && FETCH_VALUE_OPTIONS
                    .iter()
                    .any(|o| o.starts_with(w.as_str())));
        if takes_value {
            k += 1;
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        return is_location(w).then_some(w.as_str());
    }
    None
}

/// Whether a repository argument is a URL (`https://…`, `file://…`,
/// `git@host:path`) or a path (`/x`, `../x`, `~/x`, `x.bundle`), not the
/// name of a configured remote. `.` (this repository) is a name here.
fn is_location(r: &str) -> bool {
    if r == "." {
        return false;
    }
    let before_slash = r.split('/').next().unwrap_or("");
    r.contains("://")
        || r.starts_with(['/', '~', '.', '\\'])
        || before_slash.contains(':')
        || r.contains('/')
        || r.ends_with(".bundle")
}

/// Flags of `git commit` that take no value.
const COMMIT_FLAGS: &[&str] = &[
    "-a",
    "--all",
    "-n",
    "--no-verify",
    "--verify",
    "--amend",
    "--no-amend",
    "-s",
    "--signoff",
    "--no-signoff",
    "-v",
    "--verbose",
    "-q",
    "--quiet",
    "-e",
    "--edit",
    "--no-edit",
    "-i",
    "--include",
    "-o",
    "--only",
    "-p",
    "--patch",
    "--interactive",
    "--dry-run",
    "--short",
    "--porcelain",
    "--long",
    "-z",
    "--null",
    "--allow-empty",
    "--allow-empty-message",
    "--reset-author",
    "--no-post-rewrite",
    "--status",
    "--no-status",
    "--no-gpg-sign",
    "--branch",
];

/// The indices in `argv` of the words that `git commit` takes as its
/// message (`-m MSG`, `-amMSG`, `--message=MSG`): text, never an option,
/// however they expand. The walk stops at the first word whose meaning it
/// is not sure of (an abbreviated or unknown option may take the next word
/// as its value), so a word after it is never named.
pub fn commit_message_words(argv: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(("commit", args)) = subcommand(argv) else {
        return out;
    };
    let base = argv.len() - args.len();
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let at = base + k;
        k += 1;
        if w == "-m" || w == "--message" {
            if k < args.len() {
                out.push(base + k);
            }
            k += 1;
        } else if w.starts_with("--message=") {
            out.push(at);
        } else if crate::globals::COMMIT_VALUE_OPTIONS.contains(&w.as_str()) {
            k += 1;
        } else if w == "--" {
            break;
        } else if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            // `-am`, `-nm MSG`, `-mMSG`: flags until `m`, whose value is
            // the rest of the word or else the next word.
            let mut sure = false;
            for (j, c) in cluster.char_indices() {
                if c == 'm' {
                    if cluster.len() == j + 1 {
                        if k < args.len() {
                            out.push(base + k);
                        }
                        k += 1;
                    } else {
                        out.push(at);
                    }
                    sure = true;
                    break;
                }
                if !matches!(c, 'a' | 'n' | 's' | 'v' | 'q' | 'e' | 'i' | 'o' | 'p' | 'z') {
                    break;
                }
                sure = j + 1 == cluster.len();
            }
            if !sure {
                break;
            }
        } else if w.starts_with('-') && !COMMIT_FLAGS.contains(&w.as_str()) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(t: &str) -> Vec<(String, bool, bool)> {
        parse_target(t)
            .updates
            .into_iter()
            .map(|u| (u.branch, u.force, u.delete))
            .collect()
    }

    #[test]
    fn targets() {
        assert_eq!(b("origin/main"), vec![("main".into(), false, false)]);
        assert_eq!(
            b("origin/feature/x"),
            vec![("feature/x".into(), false, false)]
        );
        assert_eq!(b("origin HEAD:main"), vec![("main".into(), false, false)]);
        assert_eq!(b("origin +main"), vec![("main".into(), true, false)]);
        assert_eq!(b("origin :main"), vec![("main".into(), false, true)]);
        assert_eq!(b("refs/heads/main"), vec![("main".into(), false, false)]);
        assert_eq!(
            b("git push --force origin dev"),
            vec![("dev".into(), true, false)]
        );
        assert!(parse_target("git push --mirror origin").all_branches);
        assert!(parse_target("git push").implicit);
    }

    #[test]
    fn commit_messages() {
        let f = |line: &str| {
            let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
            commit_message_words(&argv)
        };
        assert_eq!(f("git commit -m M"), vec![3]);
        assert_eq!(f("git -C d commit -am M -- M2"), vec![5]);
        assert_eq!(f("git commit -mM --message N --message=O"), vec![2, 4, 5]);
        assert_eq!(f("git commit -nvm M"), vec![3]);
        assert_eq!(f("git commit -a -m"), Vec::<usize>::new());
        // Not sure what the words mean: nothing after them is named.
        assert_eq!(f("git commit --auth -m M"), Vec::<usize>::new());
        assert_eq!(f("git commit --author -m M"), Vec::<usize>::new());
        assert_eq!(f("git commit -Fm M"), Vec::<usize>::new());
        assert_eq!(f("git commit -ux -m M"), Vec::<usize>::new());
        assert_eq!(f("git commit -- -m M"), Vec::<usize>::new());
        assert_eq!(f("git tag -m M"), Vec::<usize>::new());
        assert_eq!(f("git commit -C HEAD -m M"), vec![5]);
        // `-o` is `--only`, a flag: `-m -m M` gives the first -m the value
        // `-m`, and M is then an option (review round 19).
        assert_eq!(f("git commit -o -m -m M"), vec![4]);
    }

    #[test]
    fn fetch_locations() {
        let f = |line: &str| {
            let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
            fetch_location(&argv).map(str::to_string)
        };
        assert_eq!(
            f("git pull https://x/r.git main").as_deref(),
            Some("https://x/r.git")
        );
        assert_eq!(f("git fetch git@host:o/r").as_deref(), Some("git@host:o/r"));
        assert_eq!(
            f("git -C d fetch --depth 1 ../evil").as_deref(),
            Some("../evil")
        );
        assert_eq!(
            f("git pull --no-rebase -- /tmp/r").as_deref(),
            Some("/tmp/r")
        );
        assert_eq!(f("git fetch o/r main").as_deref(), Some("o/r"));
        assert_eq!(f("git pull origin main"), None);
        assert_eq!(f("git fetch --all"), None);
        assert_eq!(f("git pull . feature"), None);
        assert_eq!(f("git fetch -o x origin"), None);
        assert_eq!(f("git fetch origin main:main"), None);
        assert_eq!(f("git push https://x/r.git"), None);
        // Abbreviated options take their value (review round 19).
        assert_eq!(f("git fetch --dep 1 evil/r").as_deref(), Some("evil/r"));
        assert_eq!(
            f("git pull --dept 1 https://e/r.git main").as_deref(),
            Some("https://e/r.git")
        );
        assert_eq!(
            f("git fetch --shallow-ex x g@h:r").as_deref(),
            Some("g@h:r")
        );
    }
}
