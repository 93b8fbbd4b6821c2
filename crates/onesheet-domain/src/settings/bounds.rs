//! Range checks shared by the settings sections, so every out-of-range value is reported the
//! same way: the dotted field path, the rejected value and the accepted range with its unit.

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::validation::ValidationErrors;

/// Pushes an error for `field` when `value` lies outside `range`.
///
/// `setting_name` names the setting in words (`tile interval`) and `unit` follows the numbers
/// (`seconds`), so the message reads "invalid tile interval 1 seconds: use 3 to 3600 seconds".
pub(crate) fn check_range<T: PartialOrd + Display>(
    errors: &mut ValidationErrors,
    field: &str,
    setting_name: &str,
    value: T,
    range: &RangeInclusive<T>,
    unit: &str,
) {
    if !range.contains(&value) {
        errors.push(
            field,
            format!(
                "invalid {setting_name} {value} {unit}: use {} to {} {unit}",
                range.start(),
                range.end()
            ),
        );
    }
}

/// Pushes an error for `field` when `text` has more than `max_chars` characters.
pub(crate) fn check_text_length(
    errors: &mut ValidationErrors,
    field: &str,
    text: &str,
    max_chars: usize,
) {
    let length = text.chars().count();
    if length > max_chars {
        errors.push(
            field,
            format!("invalid text of {length} characters: use at most {max_chars} characters"),
        );
    }
}
