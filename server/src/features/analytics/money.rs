//! Exact money arithmetic with Python `Decimal` semantics: sums arrive from
//! SQL as integer cents; quotients use a 28-significant-digit context with
//! round-half-even, keeping the "ideal" exponent when the quotient is exact
//! (`72527.40 / 7260 = 9.99`, `100.00 / 3 = 33.33333333333333333333333333`).

/// Significant digits of the division context.
const PRECISION: usize = 28;

fn digit_count(value: u128) -> usize {
    if value == 0 {
        0
    } else {
        value.ilog10() as usize + 1
    }
}

/// Renders `coefficient × 10^-scale` in plain notation.
fn render(negative: bool, coefficient: u128, scale: u32) -> String {
    let digits = coefficient.to_string();
    let scale = scale as usize;
    let body = if scale == 0 {
        digits
    } else if digits.len() > scale {
        format!(
            "{}.{}",
            &digits[..digits.len() - scale],
            &digits[digits.len() - scale..]
        )
    } else {
        format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
    };
    if negative && coefficient != 0 {
        format!("-{body}")
    } else {
        body
    }
}

/// A money amount in cents as a 2-place decimal string (`"72527.40"`).
pub(crate) fn cents_text(cents: i64) -> String {
    render(cents < 0, u128::from(cents.unsigned_abs()), 2)
}

/// `(numerator × 10^-scale) / divisor` with Python `Decimal` division
/// semantics (28 significant digits, half-even, ideal exponent when exact).
/// `None` when `divisor` is 0.
pub(crate) fn decimal_div(numerator: i128, scale: u32, divisor: i128) -> Option<String> {
    if divisor == 0 {
        return None;
    }
    let negative = (numerator < 0) != (divisor < 0);
    let d = divisor.unsigned_abs();
    let n = numerator.unsigned_abs();
    let mut coefficient = n / d;
    let mut remainder = n % d;
    let mut scale = scale;
    while remainder != 0 && digit_count(coefficient) < PRECISION {
        remainder *= 10;
        coefficient = coefficient * 10 + remainder / d;
        remainder %= d;
        scale += 1;
    }
    if remainder != 0 {
        let twice = remainder * 2;
        if twice > d || (twice == d && coefficient % 2 == 1) {
            coefficient += 1;
            if digit_count(coefficient) > PRECISION && scale > 0 {
                coefficient /= 10;
                scale -= 1;
            }
        }
    }
    Some(render(negative, coefficient, scale))
}

/// `part / whole × 100` rounded half-even to 2 places (`"45.50"`);
/// `"0.00"` when `whole` is 0.
pub(crate) fn share_pct(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "0.00".to_owned();
    }
    let numerator = i128::from(part) * 10_000;
    let whole = i128::from(whole);
    let mut hundredths = numerator / whole;
    let remainder = (numerator % whole).abs() * 2;
    let whole_abs = whole.abs();
    if remainder > whole_abs || (remainder == whole_abs && hundredths % 2 != 0) {
        hundredths += if (numerator < 0) != (whole < 0) {
            -1
        } else {
            1
        };
    }
    let negative = hundredths < 0;
    render(negative, hundredths.unsigned_abs(), 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_quotients_keep_the_ideal_exponent() {
        assert_eq!(decimal_div(7_252_740, 2, 7260).unwrap(), "9.99");
        assert_eq!(decimal_div(1000, 2, 4).unwrap(), "2.50");
        assert_eq!(decimal_div(100, 2, 8).unwrap(), "0.125");
        assert_eq!(decimal_div(0, 2, 5).unwrap(), "0.00");
        assert_eq!(decimal_div(600, 2, 1).unwrap(), "6.00");
    }

    #[test]
    fn inexact_quotients_have_28_significant_digits() {
        assert_eq!(
            decimal_div(10_000, 2, 3).unwrap(),
            "33.33333333333333333333333333"
        );
        assert_eq!(
            decimal_div(1000, 2, 3).unwrap(),
            "3.333333333333333333333333333"
        );
        assert_eq!(
            decimal_div(200, 2, 3).unwrap(),
            "0.6666666666666666666666666667"
        );
        assert_eq!(
            decimal_div(1, 2, 3).unwrap(),
            "0.003333333333333333333333333333"
        );
        assert_eq!(decimal_div(5, 2, 0), None);
    }

    #[test]
    fn half_even_at_the_28th_digit() {
        // 1 / 2^n has a 5 in the position after many digits; pick a case that
        // ends exactly on a half after 28 digits: 1.00000…(27 zeros)5 / 1.
        // Emulate with a numerator of 29 significant digits divided by 10.
        let n: i128 = 10i128.pow(28) + 5; // 29 digits ending in 5
        assert_eq!(
            decimal_div(n, 0, 10).unwrap(),
            "1000000000000000000000000000"
        );
        let n: i128 = 10i128.pow(28) + 15;
        assert_eq!(
            decimal_div(n, 0, 10).unwrap(),
            "1000000000000000000000000002"
        );
    }

    #[test]
    fn shares_round_half_even() {
        assert_eq!(share_pct(455, 1000), "45.50");
        assert_eq!(share_pct(1, 3), "33.33");
        assert_eq!(share_pct(2, 3), "66.67");
        assert_eq!(share_pct(1, 8), "12.50");
        // Exactly half a hundredth: 0.005 → 0.00, 0.015 → 0.02.
        assert_eq!(share_pct(1, 20_000), "0.00");
        assert_eq!(share_pct(3, 20_000), "0.02");
        assert_eq!(share_pct(3, 1600), "0.19");
        assert_eq!(share_pct(5, 0), "0.00");
        assert_eq!(share_pct(7, 7), "100.00");
    }

    #[test]
    fn cents_render_with_two_places() {
        assert_eq!(cents_text(7_252_740), "72527.40");
        assert_eq!(cents_text(5), "0.05");
        assert_eq!(cents_text(0), "0.00");
    }
}
