//! Compile-fail and compile-pass programs in `ui-tests/` (see its README).

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "ui-tests/ snapshots are made with rustc 1.95 stable; see ui-tests/README.md"
)]
#[cfg_attr(miri, ignore)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui-tests/*.rs");
    cases.pass("ui-tests/pass/*.rs");
}
