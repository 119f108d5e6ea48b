//! Compile-fail and compile-pass programs in `ui-tests/` (see its README).
//!
//! The snapshots hold rustc 1.95's wording, so on any other compiler the
//! test is reported as ignored, with the reason and the command that runs
//! it; `.ci/run` runs it on 1.95 whatever its own toolchain is, and says
//! SKIP, with the versions, if it cannot.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the ui-tests/ snapshots hold rustc 1.95's wording: run `cargo +1.95 test --test ui` (see ui-tests/README.md)"
)]
#[cfg_attr(miri, ignore)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui-tests/*.rs");
    cases.pass("ui-tests/pass/*.rs");
}
