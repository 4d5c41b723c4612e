use std::path::PathBuf;

use rampart_rules::RuleSet;

fn data(rel: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("test data {} is missing ({e}); see ../shared/data/README.md", path.display())
    });
    (path, text)
}

#[test]
fn falco_rules_load_without_errors() {
    let (set, warnings) = match RuleSet::load_with_builtins(&[data("falco/rules/falco_rules.yaml")]) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    for w in &warnings {
        eprintln!("{w}");
    }
    assert_eq!(set.rules().len(), 31);
    eprintln!("{:?}", set.event_types());
}
