#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The resolved-pack cache hooks use: a hit gives the same pack, and an
//! edit to the pack or to any pack it inherits is never served stale.

use cavra_policy::PackSource;

fn write(dir: &std::path::Path, id: &str, text: &str) {
    std::fs::create_dir_all(dir.join(id)).unwrap();
    std::fs::write(dir.join(id).join("policy.yaml"), text).unwrap();
}

#[test]
fn cache_hits_and_never_serves_stale_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let packs = tmp.path().join("packs");
    let cache = tmp.path().join("cache");
    write(
        &packs,
        "cavra-parent",
        "metadata: {id: cavra-parent, title: p, description: p, version: '1'}\ncommands:\n  block: ['terraform apply*']\n",
    );
    write(
        &packs,
        "cavra-child",
        "metadata: {id: cavra-child, title: c, description: c, version: '1', inherits: cavra-parent}\ncommands:\n  allow: ['ls*']\n",
    );
    let source = cavra_packs::source_at(&packs);
    let file = source.get("cavra-child").unwrap();
    let direct = cavra_policy::load::resolve_file(&source, &file, &[]).unwrap();
    let first = cavra_packs::resolve_file_cached(&source, &file, Some(&cache)).unwrap();
    assert_eq!(first.digest(), direct.digest());
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    let hit = cavra_packs::resolve_file_cached(&source, &file, Some(&cache)).unwrap();
    assert_eq!(hit.digest(), direct.digest());
    assert_eq!(hit.files, direct.files);

    // Editing the parent invalidates the entry.
    write(
        &packs,
        "cavra-parent",
        "metadata: {id: cavra-parent, title: p, description: p, version: '2'}\ncommands:\n  block: ['terraform destroy*']\n",
    );
    let after = cavra_packs::resolve_file_cached(&source, &file, Some(&cache)).unwrap();
    let fresh = cavra_policy::load::resolve_file(&source, &file, &[]).unwrap();
    assert_eq!(after.digest(), fresh.digest());
    assert_ne!(after.digest(), direct.digest());

    // A corrupt entry only costs time.
    for e in std::fs::read_dir(&cache).unwrap() {
        std::fs::write(e.unwrap().path(), "{garbage").unwrap();
    }
    let again = cavra_packs::resolve_file_cached(&source, &file, Some(&cache)).unwrap();
    assert_eq!(again.digest(), fresh.digest());

    // An invalid pack is still an error, cached or not.
    write(
        &packs,
        "cavra-child",
        "metadata: {id: cavra-child}\nfrobnicate: 1\n",
    );
    let bad = source.get("cavra-child").unwrap();
    assert!(cavra_packs::resolve_file_cached(&source, &bad, Some(&cache)).is_err());
}
