//! Numbered bind parameters (`$1, $2, …`) for statements whose length follows the data: `IN`
//! lists and multi-row `VALUES`. Only placeholders are generated, never values, so no input
//! reaches the SQL text.

/// `count` parameters from `$first`, comma-separated: `$2, $3, $4` (an `IN` list).
pub fn list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `count` rows of `width` parameters each, numbered from `$first`, each row ending with `tail`
/// (parameters shared by every row, or constants): `rows(3, 2, 2, "$1")` is
/// `($3, $4, $1), ($5, $6, $1)`.
pub fn rows(first: usize, count: usize, width: usize, tail: &str) -> String {
    (0..count)
        .map(|i| {
            let own = list(first + i * width, width);
            match (own.is_empty(), tail.is_empty()) {
                (_, true) => format!("({own})"),
                (true, false) => format!("({tail})"),
                (false, false) => format!("({own}, {tail})"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{list, rows};

    #[test]
    fn lists_and_rows_number_their_parameters_in_order() {
        assert_eq!(list(1, 3), "$1, $2, $3");
        assert_eq!(list(2, 1), "$2");
        assert_eq!(list(5, 0), "");
        assert_eq!(rows(3, 2, 2, "$1"), "($3, $4, $1), ($5, $6, $1)");
        assert_eq!(rows(1, 2, 2, ""), "($1, $2), ($3, $4)");
        assert_eq!(rows(2, 2, 1, "$1, 0"), "($2, $1, 0), ($3, $1, 0)");
    }
}
