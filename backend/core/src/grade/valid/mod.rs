//! The *valid* checks: is the submission what some legal execution of the
//! input prints?
pub fn check(
    _format: crate::formats::OutputFormat,
    _scenario: &crate::scenario::Scenario,
    _normal: &super::normalize::Normal,
) -> Vec<super::Problem> {
    Vec::new()
}
