#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Where packs come from: a local pack that is there but cannot be read is
//! an error, never replaced by the built-in pack of the same id.

use cavra_policy::PackSource;

#[test]
fn an_unreadable_local_pack_is_never_replaced_by_the_builtin_one() {
    let tmp = tempfile::tempdir().unwrap();
    let id = "cavra-ai-agent-baseline";
    let dir = tmp.path().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    // A stricter local baseline with one byte that is not UTF-8.
    std::fs::write(
        dir.join("policy.yaml"),
        b"metadata: {id: cavra-ai-agent-baseline, title: \xff, description: d, version: '1'}\ncommands:\n  default: block\n",
    )
    .unwrap();
    let source = cavra_packs::source_at(tmp.path());
    assert!(source.get(id).is_none());
    let why = source.problem(id).unwrap();
    assert!(why.contains("not valid UTF-8"), "{why}");
    let err = cavra_policy::load::resolve(&source, id)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be read") && err.contains("UTF-8"),
        "{err}"
    );
    // A child inheriting it fails the same way.
    std::fs::create_dir_all(tmp.path().join("cavra-mine")).unwrap();
    std::fs::write(
        tmp.path().join("cavra-mine/policy.yaml"),
        "metadata: {id: cavra-mine, title: m, description: m, version: '1', inherits: cavra-ai-agent-baseline}\n",
    )
    .unwrap();
    let err = cavra_policy::load::resolve(&source, "cavra-mine")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be read"), "{err}");
    // A directory where the file should be is not absent either.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join(id).join("policy.yaml")).unwrap();
    let source = cavra_packs::source_at(other.path());
    assert!(source.get(id).is_none());
    assert!(source.problem(id).is_some());
    // Ids the directory does not have still come from the builtin packs.
    assert!(source.get("cavra-hipaa").is_some());
}
